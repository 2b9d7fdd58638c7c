
  
  create view "warehouse"."staging"."stg_outcomes__applications__dbt_tmp" as (
    select
    application_id || ':' || stage as application_stage_id,
    application_id,
    event_ts as occurred_at,
    stage,
    product,
    channel,
    customer_id,
    first_name,
    last_name,
    email,
    phone,
    date_of_birth,
    amount,
    'outcomes__applications:' || application_id as record_id,
    _source_file,
    _row_number,
    _loaded_at
from "warehouse"."raw"."outcomes__applications"
  );
