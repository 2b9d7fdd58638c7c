
    
    



select journey_stage
from "warehouse"."marts"."customer_journey_stages"
where journey_stage is null


