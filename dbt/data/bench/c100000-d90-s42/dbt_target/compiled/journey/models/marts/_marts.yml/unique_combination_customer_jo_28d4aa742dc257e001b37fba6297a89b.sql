
select customer_key, product, count(*) as occurrences
from "warehouse"."marts"."customer_journey_stages"
group by customer_key, product
having count(*) > 1
