
    
    



select created_at
from "warehouse"."staging"."stg_crm__advisor_notes"
where created_at is null


