
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    

select
    as_of as unique_field,
    count(*) as n_records

from "warehouse"."training"."training_snapshots"
where as_of is not null
group by as_of
having count(*) > 1



  
  
      
    ) dbt_internal_test