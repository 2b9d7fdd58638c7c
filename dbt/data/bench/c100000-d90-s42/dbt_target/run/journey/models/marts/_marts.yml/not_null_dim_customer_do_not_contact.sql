
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select do_not_contact
from "warehouse"."marts"."dim_customer"
where do_not_contact is null



  
  
      
    ) dbt_internal_test