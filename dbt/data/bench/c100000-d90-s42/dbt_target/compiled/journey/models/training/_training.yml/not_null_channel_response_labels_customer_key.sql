
    
    



select customer_key
from "warehouse"."training"."channel_response_labels"
where customer_key is null


