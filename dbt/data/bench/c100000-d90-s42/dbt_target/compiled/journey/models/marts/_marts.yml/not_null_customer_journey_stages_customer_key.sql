
    
    



select customer_key
from "warehouse"."marts"."customer_journey_stages"
where customer_key is null


