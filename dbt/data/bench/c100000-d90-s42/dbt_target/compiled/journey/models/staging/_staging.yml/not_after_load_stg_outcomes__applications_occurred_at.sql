
select *
from "warehouse"."staging"."stg_outcomes__applications"
where occurred_at > 

    (_loaded_at + cast(5 as bigint) * interval 1 minute)
