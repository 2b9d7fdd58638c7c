
select customer_key, as_of, count(*) as occurrences
from "warehouse"."training"."customer_feature_snapshots"
group by customer_key, as_of
having count(*) > 1
