
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select interaction_type
from "warehouse"."marts"."fct_interactions"
where interaction_type is null



  
  
      
    ) dbt_internal_test