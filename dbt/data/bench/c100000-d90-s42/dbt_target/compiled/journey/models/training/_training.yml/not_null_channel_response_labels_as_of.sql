
    
    



select as_of
from "warehouse"."training"."channel_response_labels"
where as_of is null


