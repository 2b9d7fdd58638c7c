
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
select customer_key, as_of, count(*) as occurrences
from "warehouse"."training"."churn_labels"
group by customer_key, as_of
having count(*) > 1

  
  
      
    ) dbt_internal_test