
    
    



select customer_key
from "warehouse"."training"."customer_feature_snapshots"
where customer_key is null


