
    
    



select as_of
from "warehouse"."marts"."customer_features"
where as_of is null


