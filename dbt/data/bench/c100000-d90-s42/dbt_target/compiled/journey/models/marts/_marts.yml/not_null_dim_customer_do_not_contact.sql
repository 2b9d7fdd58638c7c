
    
    



select do_not_contact
from "warehouse"."marts"."dim_customer"
where do_not_contact is null


