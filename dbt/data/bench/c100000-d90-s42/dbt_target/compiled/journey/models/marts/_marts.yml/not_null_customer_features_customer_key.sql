
    
    



select customer_key
from "warehouse"."marts"."customer_features"
where customer_key is null


