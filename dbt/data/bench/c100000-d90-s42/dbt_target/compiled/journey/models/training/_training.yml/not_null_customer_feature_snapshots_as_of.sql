
    
    



select as_of
from "warehouse"."training"."customer_feature_snapshots"
where as_of is null


