
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select label_window_end
from "warehouse"."training"."training_snapshots"
where label_window_end is null



  
  
      
    ) dbt_internal_test