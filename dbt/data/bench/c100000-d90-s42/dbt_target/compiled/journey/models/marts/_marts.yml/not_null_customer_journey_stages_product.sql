
    
    



select product
from "warehouse"."marts"."customer_journey_stages"
where product is null


