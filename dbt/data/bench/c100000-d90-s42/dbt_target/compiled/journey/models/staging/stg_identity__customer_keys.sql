select
    record_id,
    source_table,
    source_id,
    customer_key,
    shared_device,
    resolved_at
from "warehouse"."identity"."customer_keys"