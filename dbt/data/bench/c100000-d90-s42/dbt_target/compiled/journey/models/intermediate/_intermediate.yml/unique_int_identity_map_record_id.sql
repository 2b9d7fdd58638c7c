
    
    

select
    record_id as unique_field,
    count(*) as n_records

from "warehouse"."intermediate"."int_identity_map"
where record_id is not null
group by record_id
having count(*) > 1


