
    
    



select application_stage_id
from "warehouse"."staging"."stg_outcomes__applications"
where application_stage_id is null


