
    
    



select as_of
from "warehouse"."training"."churn_labels"
where as_of is null


