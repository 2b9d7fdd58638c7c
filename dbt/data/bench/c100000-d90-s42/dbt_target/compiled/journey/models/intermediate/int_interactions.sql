
-- Every interaction of every source in one shape, keyed by the identity record it came from
-- (not yet by customer: keys can merge and split, so the join happens downstream). Incremental:
-- a micro-batch adds only rows loaded after the latest already here.



with

web as (
    select * from "warehouse"."staging"."stg_web__events"
    
),

calls as (
    select * from "warehouse"."staging"."stg_contact_centre__calls"
    
),

email as (
    select * from "warehouse"."staging"."stg_email__events"
    
),

applications as (
    select * from "warehouse"."staging"."stg_outcomes__applications"
    
),

notes as (
    select * from "warehouse"."staging"."stg_crm__advisor_notes"
    
),


unioned as (
    select
        'web:' || event_id as interaction_id,
        occurred_at,
        channel,
        event_type as interaction_type,
        product_topic,
        page_category as detail,
        record_id,
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
        'email__events',
        _source_file,
        _row_number,
        _loaded_at
    from email

    union all

    select
        'application:' || application_stage_id,
        occurred_at,
        case channel when 'phone' then 'contact_centre' else coalesce(channel, 'outcomes') end,
        'application_' || stage,
        product,
        cast(amount as varchar),
        record_id,
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
        'crm__advisor_notes',
        _source_file,
        _row_number,
        _loaded_at
    from notes
)

select * from unioned