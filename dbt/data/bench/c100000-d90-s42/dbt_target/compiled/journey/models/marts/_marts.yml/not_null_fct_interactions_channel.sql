
    
    



select channel
from "warehouse"."marts"."fct_interactions"
where channel is null


