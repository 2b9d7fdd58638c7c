-- Whether and how each customer may be contacted. Suppression always wins: do-not-contact,
-- an email unsubscribe or a hard bounce of the address on file after the last email consent,
-- an SMS STOP or push opt-out after the last consent to that channel, no address to send to.
with email_suppression as (
    -- An unsubscribe stops the person; a bounce stops only the address that bounced, so a
    -- customer with a working new address stays reachable.
    select
        m.customer_key,
        max(case when e.event_type = 'unsubscribe' then e.occurred_at end) as unsubscribed_at,
        max(case when e.event_type = 'bounce'
            and e.recipient_email = lower(trim(d.email)) then e.occurred_at end) as bounced_at
    from {{ ref('stg_email__events') }} as e
    inner join {{ ref('int_identity_map') }} as m on m.record_id = e.record_id
    left join {{ ref('dim_customer') }} as d on d.customer_key = m.customer_key
    group by m.customer_key
),

messaging_opt_outs as (
    -- by the key the customer has now: a STOP survives their key merging into another
    select
        k.customer_key,
        max(case when e.channel = 'sms' then e.occurred_at end) as sms_opted_out_at,
        max(case when e.channel = 'push' then e.occurred_at end) as push_opted_out_at
    from {{ ref('stg_messaging__events') }} as e
    inner join {{ ref('int_customer_key_successors') }} as k on k.sent_key = e.customer_key
    where e.event_type = 'opt_out'
    group by k.customer_key
),

app_users as (
    -- The app is installed: the customer used it at any time on record, or opened or tapped a
    -- push (push consent alone is not enough: there must be a device to send to).
    select m.customer_key
    from {{ ref('stg_web__events') }} as w
    inner join {{ ref('int_identity_map') }} as m on m.record_id = w.record_id
    where w.channel = 'app'
    union
    select k.customer_key
    from {{ ref('stg_messaging__events') }} as e
    inner join {{ ref('int_customer_key_successors') }} as k on k.sent_key = e.customer_key
    where e.channel = 'push' and e.event_type in ('open', 'click')
),

flags as (
    select
        d.*,
        s.unsubscribed_at,
        s.bounced_at,
        coalesce(s.unsubscribed_at > coalesce(d.consent_email_at, cast('1900-01-01' as timestamp)), false)
            as email_unsubscribed,
        coalesce(s.bounced_at > coalesce(d.consent_email_at, cast('1900-01-01' as timestamp)), false)
            as email_bounced,
        coalesce(o.sms_opted_out_at > coalesce(d.consent_sms_at, cast('1900-01-01' as timestamp)), false)
            as sms_opted_out,
        coalesce(o.push_opted_out_at > coalesce(d.consent_push_at, cast('1900-01-01' as timestamp)), false)
            as push_opted_out,
        a.customer_key is not null as uses_app
    from {{ ref('dim_customer') }} as d
    left join email_suppression as s on s.customer_key = d.customer_key
    left join messaging_opt_outs as o on o.customer_key = d.customer_key
    left join app_users as a on a.customer_key = d.customer_key
)

select
    customer_key,
    time_zone,
    do_not_contact,
    consent_email,
    consent_sms,
    consent_push,
    consent_phone,
    unsubscribed_at,
    bounced_at,
    email_unsubscribed,
    email_bounced,
    sms_opted_out,
    push_opted_out,
    uses_app,
    consent_email and not do_not_contact and email is not null
        and not email_unsubscribed and not email_bounced as can_email,
    consent_sms and not do_not_contact and phone is not null and not sms_opted_out as can_sms,
    consent_push and not do_not_contact and uses_app and not push_opted_out as can_push,
    consent_phone and not do_not_contact and phone is not null as can_call
from flags
