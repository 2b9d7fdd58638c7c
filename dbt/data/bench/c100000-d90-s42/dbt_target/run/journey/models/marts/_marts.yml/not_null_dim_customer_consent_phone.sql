
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select consent_phone
from "warehouse"."marts"."dim_customer"
where consent_phone is null



  
  
      
    ) dbt_internal_test