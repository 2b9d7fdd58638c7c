
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select can_call
from "warehouse"."marts"."customer_contactability"
where can_call is null



  
  
      
    ) dbt_internal_test