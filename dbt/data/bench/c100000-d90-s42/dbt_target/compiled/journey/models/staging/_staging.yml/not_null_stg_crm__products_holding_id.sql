
    
    



select holding_id
from "warehouse"."staging"."stg_crm__products"
where holding_id is null


