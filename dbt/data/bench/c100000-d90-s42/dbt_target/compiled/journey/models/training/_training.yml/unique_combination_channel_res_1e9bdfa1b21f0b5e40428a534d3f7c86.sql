
select customer_key, as_of, channel, count(*) as occurrences
from "warehouse"."training"."channel_response_labels"
group by customer_key, as_of, channel
having count(*) > 1
