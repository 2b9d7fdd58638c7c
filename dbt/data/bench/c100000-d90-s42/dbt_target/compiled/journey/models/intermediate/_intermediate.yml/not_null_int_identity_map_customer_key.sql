
    
    



select customer_key
from "warehouse"."intermediate"."int_identity_map"
where customer_key is null


