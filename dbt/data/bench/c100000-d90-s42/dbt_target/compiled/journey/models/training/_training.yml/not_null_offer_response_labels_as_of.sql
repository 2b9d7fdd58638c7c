
    
    



select as_of
from "warehouse"."training"."offer_response_labels"
where as_of is null


