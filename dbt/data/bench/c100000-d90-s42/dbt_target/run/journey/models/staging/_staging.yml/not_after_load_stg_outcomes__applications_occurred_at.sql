
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
select *
from "warehouse"."staging"."stg_outcomes__applications"
where occurred_at > 

    (_loaded_at + cast(5 as bigint) * interval 1 minute)

  
  
      
    ) dbt_internal_test