
    
    



select customer_key
from "warehouse"."staging"."stg_identity__customer_keys"
where customer_key is null


