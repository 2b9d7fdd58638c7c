
  
  create view "warehouse"."staging"."stg_crm__customers__dbt_tmp" as (
    -- One row per CRM record version; survivorship across versions happens in the marts.
select
    customer_id,
    first_name,
    last_name,
    email,
    phone,
    street,
    city,
    state,
    postcode,
    country,
    date_of_birth,
    gender,
    time_zone,
    branch_id,
    advisor_id,
    customer_since,
    consent_email,
    consent_email_at,
    consent_sms,
    consent_sms_at,
    consent_push,
    consent_push_at,
    consent_phone,
    consent_phone_at,
    coalesce(do_not_contact, false) as do_not_contact,
    updated_at,
    'crm__customers:' || customer_id as record_id,
    _source_file,
    _row_number,
    _loaded_at
from "warehouse"."raw"."crm__customers"
  );
