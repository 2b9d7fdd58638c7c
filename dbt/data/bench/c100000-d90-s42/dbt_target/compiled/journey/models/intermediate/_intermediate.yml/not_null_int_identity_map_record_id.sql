
    
    



select record_id
from "warehouse"."intermediate"."int_identity_map"
where record_id is null


