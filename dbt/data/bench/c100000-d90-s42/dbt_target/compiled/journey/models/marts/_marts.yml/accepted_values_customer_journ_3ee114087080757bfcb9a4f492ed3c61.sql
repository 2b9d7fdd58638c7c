
    
    

with all_values as (

    select
        journey_stage as value_field,
        count(*) as n_records

    from "warehouse"."marts"."customer_journey_stages"
    group by journey_stage

)

select *
from all_values
where value_field not in (
    'customer','applying','considering','aware','lapsed'
)


