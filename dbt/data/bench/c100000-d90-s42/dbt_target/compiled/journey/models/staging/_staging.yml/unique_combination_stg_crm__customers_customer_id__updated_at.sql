
select customer_id, updated_at, count(*) as occurrences
from "warehouse"."staging"."stg_crm__customers"
group by customer_id, updated_at
having count(*) > 1
