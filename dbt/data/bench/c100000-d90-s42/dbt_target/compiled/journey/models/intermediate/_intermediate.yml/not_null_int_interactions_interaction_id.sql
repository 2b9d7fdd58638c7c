
    
    



select interaction_id
from "warehouse"."intermediate"."int_interactions"
where interaction_id is null


