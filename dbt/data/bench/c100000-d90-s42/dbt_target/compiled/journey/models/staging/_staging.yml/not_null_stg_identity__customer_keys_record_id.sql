
    
    



select record_id
from "warehouse"."staging"."stg_identity__customer_keys"
where record_id is null


