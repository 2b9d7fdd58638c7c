
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select journey_stage
from "warehouse"."marts"."customer_journey_stages"
where journey_stage is null



  
  
      
    ) dbt_internal_test