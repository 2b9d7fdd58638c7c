
    
    



select occurred_at
from "warehouse"."intermediate"."int_interactions"
where occurred_at is null


