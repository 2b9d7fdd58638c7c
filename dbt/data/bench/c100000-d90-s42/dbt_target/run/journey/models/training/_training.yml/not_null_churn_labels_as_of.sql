
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select as_of
from "warehouse"."training"."churn_labels"
where as_of is null



  
  
      
    ) dbt_internal_test