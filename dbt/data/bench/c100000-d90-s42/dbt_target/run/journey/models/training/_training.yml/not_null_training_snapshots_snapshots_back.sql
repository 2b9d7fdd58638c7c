
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select snapshots_back
from "warehouse"."training"."training_snapshots"
where snapshots_back is null



  
  
      
    ) dbt_internal_test