
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
select customer_key, product, count(*) as occurrences
from "warehouse"."marts"."customer_journey_stages"
group by customer_key, product
having count(*) > 1

  
  
      
    ) dbt_internal_test