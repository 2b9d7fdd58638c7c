
    
    



select as_of
from "warehouse"."training"."training_snapshots"
where as_of is null


