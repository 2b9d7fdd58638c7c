
    
    



select anonymous_id
from "warehouse"."staging"."stg_web__events"
where anonymous_id is null


