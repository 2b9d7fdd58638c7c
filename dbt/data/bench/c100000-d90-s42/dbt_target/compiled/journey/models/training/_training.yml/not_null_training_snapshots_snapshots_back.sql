
    
    



select snapshots_back
from "warehouse"."training"."training_snapshots"
where snapshots_back is null


