
    
    



select label_window_end
from "warehouse"."training"."training_snapshots"
where label_window_end is null


