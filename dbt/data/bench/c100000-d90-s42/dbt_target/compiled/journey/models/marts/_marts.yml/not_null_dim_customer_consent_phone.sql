
    
    



select consent_phone
from "warehouse"."marts"."dim_customer"
where consent_phone is null


