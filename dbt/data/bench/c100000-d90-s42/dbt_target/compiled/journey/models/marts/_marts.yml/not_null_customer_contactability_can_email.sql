
    
    



select can_email
from "warehouse"."marts"."customer_contactability"
where can_email is null


