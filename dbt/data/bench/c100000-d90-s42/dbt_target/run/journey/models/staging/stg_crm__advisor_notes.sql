
  
  create view "warehouse"."staging"."stg_crm__advisor_notes__dbt_tmp" as (
    select
    note_id,
    customer_id,
    advisor_id,
    created_at,
    note,
    'crm__customers:' || customer_id as record_id,
    _source_file,
    _row_number,
    _loaded_at
from "warehouse"."raw"."crm__advisor_notes"
  );
