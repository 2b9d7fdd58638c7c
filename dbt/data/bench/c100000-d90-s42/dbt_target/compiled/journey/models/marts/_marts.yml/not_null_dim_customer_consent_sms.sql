
    
    



select consent_sms
from "warehouse"."marts"."dim_customer"
where consent_sms is null


