
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select can_push
from "warehouse"."marts"."customer_contactability"
where can_push is null



  
  
      
    ) dbt_internal_test