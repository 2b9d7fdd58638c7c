
    
    

with all_values as (

    select
        converted as value_field,
        count(*) as n_records

    from "warehouse"."training"."offer_response_labels"
    group by converted

)

select *
from all_values
where value_field not in (
    '0','1'
)


