
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select application_stage_id
from "warehouse"."staging"."stg_outcomes__applications"
where application_stage_id is null



  
  
      
    ) dbt_internal_test