
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select offer
from "warehouse"."training"."offer_response_labels"
where offer is null



  
  
      
    ) dbt_internal_test