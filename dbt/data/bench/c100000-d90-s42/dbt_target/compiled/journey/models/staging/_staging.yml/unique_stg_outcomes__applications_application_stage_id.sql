
    
    

select
    application_stage_id as unique_field,
    count(*) as n_records

from "warehouse"."staging"."stg_outcomes__applications"
where application_stage_id is not null
group by application_stage_id
having count(*) > 1


