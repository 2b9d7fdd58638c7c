
    
    



select can_push
from "warehouse"."marts"."customer_contactability"
where can_push is null


