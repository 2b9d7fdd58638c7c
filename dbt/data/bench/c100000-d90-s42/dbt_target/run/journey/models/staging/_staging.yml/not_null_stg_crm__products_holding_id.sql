
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select holding_id
from "warehouse"."staging"."stg_crm__products"
where holding_id is null



  
  
      
    ) dbt_internal_test