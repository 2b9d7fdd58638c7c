-- Every version of each holding; marts pick the latest version before their as_of boundary, so
-- a balance updated later never leaks into an earlier point in time.
select
    holding_id,
    customer_id,
    product,
    opened_at,
    closed_at,
    balance,
    updated_at,
    'crm__customers:' || customer_id as record_id
from "warehouse"."raw"."crm__products"