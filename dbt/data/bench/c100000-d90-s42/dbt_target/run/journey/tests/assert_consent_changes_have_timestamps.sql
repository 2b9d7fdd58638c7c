
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  -- A consent that changes between two versions of a CRM record must come with a new consent
-- timestamp; otherwise nobody can tell when the customer agreed or withdrew.

with versions as (
    select
        *,
        
        lag(consent_email) over w as previous_consent_email,
        lag(consent_email_at) over w as previous_consent_email_at,
        
        lag(consent_sms) over w as previous_consent_sms,
        lag(consent_sms_at) over w as previous_consent_sms_at,
        
        lag(consent_push) over w as previous_consent_push,
        lag(consent_push_at) over w as previous_consent_push_at,
        
        lag(consent_phone) over w as previous_consent_phone,
        lag(consent_phone_at) over w as previous_consent_phone_at
        
    from "warehouse"."staging"."stg_crm__customers"
    window w as (partition by customer_id order by updated_at)
)

select customer_id, updated_at, 'email' as channel
from versions
where previous_consent_email is not null
    and consent_email is distinct from previous_consent_email
    and (consent_email_at is null
        or consent_email_at is not distinct from previous_consent_email_at)
union all

select customer_id, updated_at, 'sms' as channel
from versions
where previous_consent_sms is not null
    and consent_sms is distinct from previous_consent_sms
    and (consent_sms_at is null
        or consent_sms_at is not distinct from previous_consent_sms_at)
union all

select customer_id, updated_at, 'push' as channel
from versions
where previous_consent_push is not null
    and consent_push is distinct from previous_consent_push
    and (consent_push_at is null
        or consent_push_at is not distinct from previous_consent_push_at)
union all

select customer_id, updated_at, 'phone' as channel
from versions
where previous_consent_phone is not null
    and consent_phone is distinct from previous_consent_phone
    and (consent_phone_at is null
        or consent_phone_at is not distinct from previous_consent_phone_at)


  
  
      
    ) dbt_internal_test