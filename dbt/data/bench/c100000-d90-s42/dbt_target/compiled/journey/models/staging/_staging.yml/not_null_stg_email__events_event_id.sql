
    
    



select event_id
from "warehouse"."staging"."stg_email__events"
where event_id is null


