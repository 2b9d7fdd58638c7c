
select customer_key, as_of, offer, count(*) as occurrences
from "warehouse"."training"."offer_response_labels"
group by customer_key, as_of, offer
having count(*) > 1
