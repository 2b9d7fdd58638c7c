
    
    



select can_call
from "warehouse"."marts"."customer_contactability"
where can_call is null


