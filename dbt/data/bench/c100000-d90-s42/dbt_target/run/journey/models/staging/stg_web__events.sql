
  
  create view "warehouse"."staging"."stg_web__events__dbt_tmp" as (
    select
    event_id,
    event_ts as occurred_at,
    event_type,
    anonymous_id,
    session_id,
    platform,
    case when platform = 'web' then 'web' else 'app' end as channel,
    page_path,
    page_category,
    product_topic,
    login_email,
    login_customer_id,
    'web__events:' || anonymous_id as record_id,
    _source_file,
    _row_number,
    _loaded_at
from "warehouse"."raw"."web__events"
  );
