
    
    



select can_sms
from "warehouse"."marts"."customer_contactability"
where can_sms is null


