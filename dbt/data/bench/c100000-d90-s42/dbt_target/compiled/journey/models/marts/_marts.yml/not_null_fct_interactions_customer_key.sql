
    
    



select customer_key
from "warehouse"."marts"."fct_interactions"
where customer_key is null


