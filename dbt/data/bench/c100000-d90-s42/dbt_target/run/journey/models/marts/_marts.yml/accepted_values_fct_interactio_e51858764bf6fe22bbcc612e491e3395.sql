
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    

with all_values as (

    select
        channel as value_field,
        count(*) as n_records

    from "warehouse"."marts"."fct_interactions"
    group by channel

)

select *
from all_values
where value_field not in (
    'web','app','contact_centre','email','branch','outcomes'
)



  
  
      
    ) dbt_internal_test