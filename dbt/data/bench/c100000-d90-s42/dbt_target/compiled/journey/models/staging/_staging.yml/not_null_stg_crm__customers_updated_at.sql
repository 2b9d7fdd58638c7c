
    
    



select updated_at
from "warehouse"."staging"."stg_crm__customers"
where updated_at is null


