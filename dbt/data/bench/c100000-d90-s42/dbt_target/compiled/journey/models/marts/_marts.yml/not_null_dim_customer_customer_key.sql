
    
    



select customer_key
from "warehouse"."marts"."dim_customer"
where customer_key is null


