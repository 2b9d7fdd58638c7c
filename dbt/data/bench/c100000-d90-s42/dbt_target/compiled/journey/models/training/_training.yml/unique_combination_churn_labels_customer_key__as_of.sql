
select customer_key, as_of, count(*) as occurrences
from "warehouse"."training"."churn_labels"
group by customer_key, as_of
having count(*) > 1
