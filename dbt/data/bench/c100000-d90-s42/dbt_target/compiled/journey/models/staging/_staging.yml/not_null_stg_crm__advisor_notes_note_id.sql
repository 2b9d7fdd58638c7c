
    
    



select note_id
from "warehouse"."staging"."stg_crm__advisor_notes"
where note_id is null


