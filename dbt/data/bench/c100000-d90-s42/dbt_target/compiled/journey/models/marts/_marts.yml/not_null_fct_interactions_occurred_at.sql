
    
    



select occurred_at
from "warehouse"."marts"."fct_interactions"
where occurred_at is null


