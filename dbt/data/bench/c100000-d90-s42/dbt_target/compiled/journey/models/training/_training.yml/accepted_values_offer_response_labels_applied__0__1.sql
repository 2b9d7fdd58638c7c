
    
    

with all_values as (

    select
        applied as value_field,
        count(*) as n_records

    from "warehouse"."training"."offer_response_labels"
    group by applied

)

select *
from all_values
where value_field not in (
    '0','1'
)


