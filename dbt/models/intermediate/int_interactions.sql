{{
    config(
        materialized='incremental',
        unique_key='interaction_id',
        on_schema_change='append_new_columns'
    )
}}
-- Every interaction of every source in one shape, keyed by the identity record it came from
-- (not yet by customer: keys can merge and split, so the join happens downstream). Push and SMS
-- events have no identity record: they carry the customer key the message was sent to.
-- Incremental: a micro-batch adds only rows loaded after the latest already here.

{% set sources = [
    ('web', 'stg_web__events'),
    ('calls', 'stg_contact_centre__calls'),
    ('email', 'stg_email__events'),
    ('messaging', 'stg_messaging__events'),
    ('applications', 'stg_outcomes__applications'),
    ('notes', 'stg_crm__advisor_notes'),
] %}

with
{% for name, model in sources %}
{{ name }} as (
    select * from {{ ref(model) }}
    {% if is_incremental() %}
    where _loaded_at > (select coalesce(max(_loaded_at), cast('1900-01-01' as timestamp)) from {{ this }})
    {% endif %}
),
{% endfor %}

unioned as (
    select
        'web:' || event_id as interaction_id,
        occurred_at,
        channel,
        event_type as interaction_type,
        product_topic,
        page_category as detail,
        record_id,
        cast(null as varchar) as sent_to_customer_key,
        'web__events' as source_table,
        _source_file,
        _row_number,
        _loaded_at
    from web

    union all

    select
        'call:' || call_id,
        occurred_at,
        'contact_centre',
        'call',
        product_topic,
        reason_code,
        record_id,
        null,
        'contact_centre__calls',
        _source_file,
        _row_number,
        _loaded_at
    from calls

    union all

    select
        'email:' || event_id,
        occurred_at,
        'email',
        'email_' || event_type,
        product_topic,
        campaign_id,
        record_id,
        null,
        'email__events',
        _source_file,
        _row_number,
        _loaded_at
    from email

    union all

    select
        'messaging:' || event_id,
        occurred_at,
        channel,
        channel || '_' || event_type,
        product_topic,
        decision_id,
        cast(null as varchar),
        customer_key,
        'messaging__events',
        _source_file,
        _row_number,
        _loaded_at
    from messaging

    union all

    select
        'application:' || application_stage_id,
        occurred_at,
        case channel when 'phone' then 'contact_centre' else coalesce(channel, 'outcomes') end,
        'application_' || stage,
        product,
        cast(amount as varchar),
        record_id,
        null,
        'outcomes__applications',
        _source_file,
        _row_number,
        _loaded_at
    from applications

    union all

    select
        'note:' || note_id,
        created_at,
        'branch',
        'advisor_note',
        cast(null as varchar),
        advisor_id,
        record_id,
        null,
        'crm__advisor_notes',
        _source_file,
        _row_number,
        _loaded_at
    from notes
)

select * from unioned
