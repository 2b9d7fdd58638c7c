
    
    



select occurred_at
from "warehouse"."staging"."stg_outcomes__applications"
where occurred_at is null


