
    
    



select consent_push
from "warehouse"."marts"."dim_customer"
where consent_push is null


