
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select consent_push
from "warehouse"."marts"."dim_customer"
where consent_push is null



  
  
      
    ) dbt_internal_test