
  
  create view "warehouse"."staging"."stg_email__events__dbt_tmp" as (
    select
    event_id,
    event_ts as occurred_at,
    event_type,
    message_id,
    campaign_id,
    lower(trim(recipient_email)) as recipient_email,
    product_topic,
    link_url,
    -- the identity record is the address as delivered, before lower-casing
    'email__events:' || e.recipient_email as record_id,
    _source_file,
    _row_number,
    _loaded_at
from "warehouse"."raw"."email__events" as e
  );
