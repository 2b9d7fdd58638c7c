
    
    



select customer_key
from "warehouse"."training"."churn_labels"
where customer_key is null


