
    
    



select call_id
from "warehouse"."staging"."stg_contact_centre__calls"
where call_id is null


