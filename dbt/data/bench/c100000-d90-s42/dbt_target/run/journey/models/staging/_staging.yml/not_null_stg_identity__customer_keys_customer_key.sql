
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select customer_key
from "warehouse"."staging"."stg_identity__customer_keys"
where customer_key is null



  
  
      
    ) dbt_internal_test