
    
    



select customer_key
from "warehouse"."training"."offer_response_labels"
where customer_key is null


