
    
    



select customer_id
from "warehouse"."staging"."stg_crm__customers"
where customer_id is null


