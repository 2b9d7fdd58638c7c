
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select can_sms
from "warehouse"."marts"."customer_contactability"
where can_sms is null



  
  
      
    ) dbt_internal_test