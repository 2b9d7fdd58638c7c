
    
    



select consent_email
from "warehouse"."marts"."dim_customer"
where consent_email is null


