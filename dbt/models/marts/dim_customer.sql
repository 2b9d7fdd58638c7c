-- The golden record, one row per customer_key. Survivorship rules (documented in the yml):
--   identity fields (name, email, phone, address, date of birth): the CRM record updated most
--     recently wins; a customer with no CRM record takes the latest application, then the
--     latest call (name and phone only);
--   consent per channel: the most recently timestamped consent across the customer's CRM
--     records (a consent without a timestamp never overrides one with a timestamp);
--   do_not_contact: true if any of the customer's CRM records says so (suppression wins);
--   customer_since: the earliest across CRM records; branch, advisor and time zone follow the
--     surviving CRM record.

{% set channels = var('consent_channels') %}

with crm as (
    select c.*, m.customer_key
    from {{ ref('stg_crm__customers') }} as c
    inner join {{ ref('int_identity_map') }} as m on m.record_id = c.record_id
),

-- Ranked in a subquery rather than with QUALIFY, which Spark SQL lacks.
crm_latest as (
    select * from (
        select crm.*, row_number() over (
            partition by customer_key order by updated_at desc, customer_id desc
        ) as _rank
        from crm
    ) as ranked
    where _rank = 1
),

{% for channel in channels %}
consent_{{ channel }} as (
    select customer_key, consent_{{ channel }}, consent_{{ channel }}_at from (
        select customer_key, consent_{{ channel }}, consent_{{ channel }}_at,
            row_number() over (
                partition by customer_key
                order by consent_{{ channel }}_at desc nulls last, updated_at desc
            ) as _rank
        from crm
        where consent_{{ channel }} is not null
    ) as ranked
    where _rank = 1
),
{% endfor %}

crm_summary as (
    select
        customer_key,
        min(customer_since) as customer_since,
        {{ dbt.bool_or('do_not_contact') }} as do_not_contact,
        count(distinct customer_id) as crm_records,
        {{ dbt.listagg('customer_id', "','", 'order by customer_id') }} as crm_customer_ids
    from crm
    group by customer_key
),

applicants as (
    select customer_key, first_name, last_name, email, phone, date_of_birth from (
        select m.customer_key, a.first_name, a.last_name, a.email, a.phone, a.date_of_birth,
            row_number() over (partition by m.customer_key order by a.occurred_at desc) as _rank
        from {{ ref('stg_outcomes__applications') }} as a
        inner join {{ ref('int_identity_map') }} as m on m.record_id = a.record_id
    ) as ranked
    where _rank = 1
),

callers as (
    select customer_key, caller_name, caller_phone from (
        select m.customer_key, c.caller_name, c.caller_phone,
            row_number() over (partition by m.customer_key order by c.occurred_at desc) as _rank
        from {{ ref('stg_contact_centre__calls') }} as c
        inner join {{ ref('int_identity_map') }} as m on m.record_id = c.record_id
    ) as ranked
    where _rank = 1
),

customers as (
    select distinct customer_key
    from {{ ref('int_identity_map') }}
)

select
    k.customer_key,
    coalesce(l.first_name, a.first_name) as first_name,
    coalesce(l.last_name, a.last_name) as last_name,
    case when l.customer_key is null and a.customer_key is null then c.caller_name end
        as caller_name,
    coalesce(l.email, a.email) as email,
    coalesce(l.phone, a.phone, c.caller_phone) as phone,
    l.street,
    l.city,
    l.state,
    l.postcode,
    l.country,
    coalesce(l.date_of_birth, a.date_of_birth) as date_of_birth,
    l.time_zone,
    l.branch_id,
    l.advisor_id,
    s.customer_since,
    s.crm_records,
    s.crm_customer_ids,
    l.customer_id is not null as is_crm_customer,
    case
        when l.customer_key is not null then 'crm'
        when a.customer_key is not null then 'application'
        when c.customer_key is not null then 'contact_centre'
        else 'none'
    end as identity_source,
    {% for channel in channels %}
    coalesce(consent_{{ channel }}.consent_{{ channel }}, false) as consent_{{ channel }},
    consent_{{ channel }}.consent_{{ channel }}_at,
    {% endfor %}
    coalesce(s.do_not_contact, false) as do_not_contact
from customers as k
left join crm_latest as l on l.customer_key = k.customer_key
left join crm_summary as s on s.customer_key = k.customer_key
left join applicants as a on a.customer_key = k.customer_key
left join callers as c on c.customer_key = k.customer_key
{% for channel in channels %}
left join consent_{{ channel }} on consent_{{ channel }}.customer_key = k.customer_key
{% endfor %}
