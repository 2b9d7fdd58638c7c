
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select record_id
from "warehouse"."intermediate"."int_identity_map"
where record_id is null



  
  
      
    ) dbt_internal_test