
    
    



select channel
from "warehouse"."training"."channel_response_labels"
where channel is null


