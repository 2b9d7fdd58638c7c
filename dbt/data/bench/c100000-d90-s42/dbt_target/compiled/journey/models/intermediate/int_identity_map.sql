-- Which customer every person-bearing record and logged-in device belongs to.
select
    record_id,
    source_table,
    source_id,
    customer_key,
    shared_device
from "warehouse"."staging"."stg_identity__customer_keys"