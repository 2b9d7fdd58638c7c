{# Model features per customer as of each boundary in `boundaries` (a relation with one column
   as_of): only interactions and holdings strictly before a boundary are read, so features at a
   past date are exactly what was known then. customer_features (one boundary, for scoring) and
   customer_feature_snapshots (many, for training) share this one definition. #}
{% macro customer_features(boundaries) %}
{% set windows = [7, 30, 90] %}
{% set channels = ['web', 'app', 'email', 'contact_centre', 'branch'] %}
{% set age_days = dbt.datediff('p.date_of_birth', 'cast(b.as_of as date)', 'day') %}
{% set birth_sources = [
    ('stg_crm__customers', 'updated_at', 0),
    ('stg_outcomes__applications', 'occurred_at', 1),
] %}

with boundary as (
    select as_of from {{ boundaries }} as b
),

interactions as (
    select f.*, b.as_of, {{ dbt.datediff('f.occurred_at', 'b.as_of', 'day') }} as age_days
    from {{ ref('fct_interactions') }} as f
    inner join boundary as b on f.occurred_at < b.as_of
),

holdings as (
    {{ holdings_at('boundary') }}
),

-- The same holdings as the CRM knew them 30 days before each boundary, keyed by the boundary.
holdings_month_before as (
    select h.customer_key, b.as_of, h.product, h.closed_at, h.balance
    from ({{ holdings_at('(select ' ~ dbt.dateadd('day', -30, 'as_of') ~ ' as as_of from boundary)') }}) as h
    inner join boundary as b on h.as_of = {{ dbt.dateadd('day', -30, 'b.as_of') }}
),

activity as (
    select
        customer_key,
        as_of,
        max(occurred_at) as last_interaction_at,
        {% for channel in channels %}
        count(case when channel = '{{ channel }}' and age_days < 30 then 1 end)
            as {{ channel }}_interactions_30d,
        max(case when channel = '{{ channel }}' then occurred_at end)
            as last_{{ channel }}_at,
        {% endfor %}
        {% for product in product_topics() %}
        {% for window in windows %}
        count(case when product_topic = '{{ product }}' and age_days < {{ window }}
            and shows_interest then 1 end)
            as {{ product }}_intent_{{ window }}d,
        {% endfor %}
        {% endfor %}
        count(case when interaction_type = 'email_send' and age_days < 90 then 1 end)
            as emails_sent_90d,
        count(case when interaction_type = 'email_open' and age_days < 90 then 1 end)
            as emails_opened_90d,
        -- Rates count messages, not events: privacy proxies and forwards open one email many
        -- times. A message is its campaign (one send of a campaign per recipient).
        count(distinct case when interaction_type = 'email_send' and age_days < 90
            then coalesce(detail, interaction_id) end) as email_messages_sent_90d,
        count(distinct case when interaction_type = 'email_open' and age_days < 90
            then coalesce(detail, interaction_id) end) as email_messages_opened_90d,
        count(case when interaction_type = 'email_click' and age_days < 90 then 1 end)
            as emails_clicked_90d,
        count(case when interaction_type = 'calculator_submit' and age_days < 30 then 1 end)
            as calculator_submits_30d,
        count(case when interaction_type = 'call' and age_days < 90 then 1 end) as calls_90d,
        count(case when interaction_type = 'call' and detail = 'complaint' and age_days < 90 then 1 end)
            as complaint_calls_90d,
        count(case when interaction_type like 'application_%' and age_days < 90 then 1 end)
            as application_events_90d
    from interactions
    group by customer_key, as_of
),

held as (
    select
        customer_key,
        as_of,
        count(case when closed_at is null or closed_at >= cast(as_of as date) then 1 end)
            as products_held,
        {% for product in product_topics() + ['current_account'] %}
        max(case when product = '{{ product }}'
            and (closed_at is null or closed_at >= cast(as_of as date))
            then 1 else 0 end) as holds_{{ product }},
        {% endfor %}
        sum(case when closed_at is null then coalesce(balance, 0) else 0 end) as total_balance,
        min(opened_at) as first_product_opened_at,
        sum(case when closed_at is null and product in ('current_account', 'savings')
            then coalesce(balance, 0) else 0 end) as deposits
    from holdings
    group by customer_key, as_of
),

-- The date of birth known at each boundary, as dim_customer chooses it: the latest CRM record's,
-- else the latest application's.
births as (
    select customer_key, as_of, date_of_birth from (
        select m.customer_key, b.as_of, r.date_of_birth,
            row_number() over (
                partition by m.customer_key, b.as_of order by r.preference, r.known_at desc
            ) as _rank
        from (
            {% for model, known_at, preference in birth_sources %}
            select record_id, date_of_birth, {{ known_at }} as known_at, {{ preference }} as preference
            from {{ ref(model) }}
            where date_of_birth is not null
            {% if not loop.last %}union all{% endif %}
            {% endfor %}
        ) as r
        inner join {{ ref('int_identity_map') }} as m on m.record_id = r.record_id
        inner join boundary as b on r.known_at < b.as_of
    ) as ranked
    where _rank = 1
),

deposits_month_before as (
    select customer_key, as_of, sum(coalesce(balance, 0)) as deposits
    from holdings_month_before
    where closed_at is null and product in ('current_account', 'savings')
    group by customer_key, as_of
)

select
    c.customer_key,
    b.as_of,
    a.last_interaction_at,
    {{ dbt.datediff('a.last_interaction_at', 'b.as_of', 'day') }} as days_since_last_interaction,
    {% for channel in channels %}
    coalesce(a.{{ channel }}_interactions_30d, 0) as {{ channel }}_interactions_30d,
    {{ dbt.datediff('a.last_' ~ channel ~ '_at', 'b.as_of', 'day') }} as days_since_{{ channel }},
    {% endfor %}
    {% for product in product_topics() %}
    {% for window in windows %}
    coalesce(a.{{ product }}_intent_{{ window }}d, 0) as {{ product }}_intent_{{ window }}d,
    {% endfor %}
    {% endfor %}
    coalesce(a.emails_sent_90d, 0) as emails_sent_90d,
    coalesce(a.emails_opened_90d, 0) as emails_opened_90d,
    coalesce(a.emails_clicked_90d, 0) as emails_clicked_90d,
    -- An open in the window of an email sent just before it has no send in the window: the
    -- share of messages opened is at most 1.
    case when a.email_messages_sent_90d > 0
        then least(1.0, cast(a.email_messages_opened_90d as double) / a.email_messages_sent_90d)
        end as email_open_rate_90d,
    coalesce(a.calculator_submits_30d, 0) as calculator_submits_30d,
    coalesce(a.calls_90d, 0) as calls_90d,
    coalesce(a.complaint_calls_90d, 0) as complaint_calls_90d,
    coalesce(a.application_events_90d, 0) as application_events_90d,
    coalesce(h.products_held, 0) as products_held,
    {% for product in product_topics() + ['current_account'] %}
    coalesce(h.holds_{{ product }}, 0) as holds_{{ product }},
    {% endfor %}
    coalesce(h.total_balance, 0) as total_balance,
    -- Money moving out: the relative change of current account and savings balances over 30
    -- days (-1 emptied or closed), null without deposits then.
    case when d.deposits > 0
        then (coalesce(h.deposits, 0) - d.deposits) / d.deposits
        end as deposit_change_30d,
    {{ dbt.datediff('h.first_product_opened_at', 'cast(b.as_of as date)', 'day') }} as tenure_days,
    -- Whole years since the date of birth the customer's records give; null when unknown or not
    -- plausible (a birth after as_of, a placeholder a century back).
    case when {{ age_days }} between 0 and 110 * 365
        then cast(floor({{ age_days }} / 365.25) as integer) end as age_years
from (select distinct customer_key from {{ ref('int_identity_map') }}) as c
cross join boundary as b
left join births as p on p.customer_key = c.customer_key and p.as_of = b.as_of
left join activity as a on a.customer_key = c.customer_key and a.as_of = b.as_of
left join held as h on h.customer_key = c.customer_key and h.as_of = b.as_of
left join deposits_month_before as d on d.customer_key = c.customer_key and d.as_of = b.as_of
{% endmacro %}
