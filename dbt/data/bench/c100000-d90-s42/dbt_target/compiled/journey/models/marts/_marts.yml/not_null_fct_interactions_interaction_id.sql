
    
    



select interaction_id
from "warehouse"."marts"."fct_interactions"
where interaction_id is null


