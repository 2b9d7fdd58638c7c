
    
    



select occurred_at
from "warehouse"."staging"."stg_web__events"
where occurred_at is null


