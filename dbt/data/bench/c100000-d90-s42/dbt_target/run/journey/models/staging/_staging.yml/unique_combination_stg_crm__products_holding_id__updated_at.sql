
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
select holding_id, updated_at, count(*) as occurrences
from "warehouse"."staging"."stg_crm__products"
group by holding_id, updated_at
having count(*) > 1

  
  
      
    ) dbt_internal_test