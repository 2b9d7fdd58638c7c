-- The latest version of each holding.
select
    holding_id,
    customer_id,
    product,
    opened_at,
    closed_at,
    balance,
    updated_at,
    'crm__customers:' || customer_id as record_id
from {{ source('raw', 'crm__products') }}
qualify row_number() over (partition by holding_id order by updated_at desc, _source_file desc, _row_number desc) = 1
