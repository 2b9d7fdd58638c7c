-- Push and SMS engagement. Messages go out addressed by customer key, so the events arrive with
-- it and need no identity matching.
select
    event_id,
    event_ts as occurred_at,
    channel,
    event_type,
    message_id as decision_id,
    customer_key,
    product_topic,
    link_url,
    _source_file,
    _row_number,
    _loaded_at
from {{ source('raw', 'messaging__events') }}
