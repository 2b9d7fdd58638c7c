
    
    

select
    note_id as unique_field,
    count(*) as n_records

from "warehouse"."staging"."stg_crm__advisor_notes"
where note_id is not null
group by note_id
having count(*) > 1


