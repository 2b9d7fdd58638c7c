
    
    

select
    snapshots_back as unique_field,
    count(*) as n_records

from "warehouse"."training"."training_snapshots"
where snapshots_back is not null
group by snapshots_back
having count(*) > 1


