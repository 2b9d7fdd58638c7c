
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select product
from "warehouse"."marts"."customer_journey_stages"
where product is null



  
  
      
    ) dbt_internal_test