
    
    



select occurred_at
from "warehouse"."staging"."stg_contact_centre__calls"
where occurred_at is null


