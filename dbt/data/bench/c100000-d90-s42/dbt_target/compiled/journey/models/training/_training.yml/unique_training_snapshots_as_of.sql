
    
    

select
    as_of as unique_field,
    count(*) as n_records

from "warehouse"."training"."training_snapshots"
where as_of is not null
group by as_of
having count(*) > 1


