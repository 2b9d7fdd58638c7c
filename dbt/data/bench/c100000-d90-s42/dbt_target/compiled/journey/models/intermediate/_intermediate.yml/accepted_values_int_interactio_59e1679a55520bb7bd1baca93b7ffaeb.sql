
    
    

with all_values as (

    select
        channel as value_field,
        count(*) as n_records

    from "warehouse"."intermediate"."int_interactions"
    group by channel

)

select *
from all_values
where value_field not in (
    'web','app','contact_centre','email','branch','outcomes'
)


