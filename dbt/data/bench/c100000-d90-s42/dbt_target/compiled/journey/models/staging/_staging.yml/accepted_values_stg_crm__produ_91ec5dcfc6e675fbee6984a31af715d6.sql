
    
    

with all_values as (

    select
        product as value_field,
        count(*) as n_records

    from "warehouse"."staging"."stg_crm__products"
    group by product

)

select *
from all_values
where value_field not in (
    'mortgage','credit_card','savings','insurance','personal_loan','current_account'
)


