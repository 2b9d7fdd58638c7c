
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select created_at
from "warehouse"."staging"."stg_crm__advisor_notes"
where created_at is null



  
  
      
    ) dbt_internal_test