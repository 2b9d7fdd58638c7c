
    
    



select offer
from "warehouse"."training"."offer_response_labels"
where offer is null


