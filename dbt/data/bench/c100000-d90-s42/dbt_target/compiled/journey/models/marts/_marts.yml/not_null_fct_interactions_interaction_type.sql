
    
    



select interaction_type
from "warehouse"."marts"."fct_interactions"
where interaction_type is null


