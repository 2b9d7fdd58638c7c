
    
    



select customer_key
from "warehouse"."marts"."customer_contactability"
where customer_key is null


