
select holding_id, updated_at, count(*) as occurrences
from "warehouse"."staging"."stg_crm__products"
group by holding_id, updated_at
having count(*) > 1
