
    
    



select occurred_at
from "warehouse"."staging"."stg_email__events"
where occurred_at is null


