-- Where each customer is in each product journey, as of the as_of boundary:
--   customer     holds the product (open holding)
--   applying     an application started or submitted in the lookback, not yet decided
--   considering  several product interactions in the last 30 days, or a calculator, rates page
--                or a call about the product
--   aware        any interaction about the product in the lookback (the customer's own: the
--                platform's next-best-action sends do not count)
--   lapsed       held the product before, holds it no longer
-- The first rule that applies wins; customers with no relation to a product have no row for it.

with boundary as (
    select {{ as_of() }} as as_of
),

products as (
    {% for product in product_topics() %}
    select '{{ product }}' as product {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

signals as (
    select
        f.customer_key,
        f.product_topic as product,
        count(*) as interactions,
        count(case when {{ dbt.datediff('f.occurred_at', 'b.as_of', 'day') }} < 30 then 1 end)
            as interactions_30d,
        count(case when f.detail in ('calculator', 'rates') or f.interaction_type in ('call', 'calculator_submit')
            then 1 end) as strong_signals,
        max(case when f.interaction_type in ('application_started', 'application_submitted')
            then f.occurred_at end) as last_application_at,
        max(case when f.interaction_type in ('application_approved', 'application_declined', 'application_converted')
            then f.occurred_at end) as last_decision_at,
        max(f.occurred_at) as last_signal_at
    from {{ ref('fct_interactions') }} as f
    cross join boundary as b
    where f.occurred_at < b.as_of
        and f.occurred_at >= {{ dbt.dateadd('day', -var('lookback_days'), 'b.as_of') }}
        and f.product_topic is not null
        and f.shows_interest
    group by f.customer_key, f.product_topic
),

holdings as (
    select
        h.customer_key,
        h.product,
        max(case when h.closed_at is null or h.closed_at >= cast(b.as_of as date) then 1 else 0 end)
            as holds_now
    from ({{ holdings_as_of() }}) as h
    cross join boundary as b
    group by h.customer_key, h.product
),

related as (
    select customer_key, product from signals
    union
    select customer_key, product from holdings
)

select
    r.customer_key,
    r.product,
    case
        when h.holds_now = 1 then 'customer'
        when s.last_application_at is not null
            and (s.last_decision_at is null or s.last_decision_at < s.last_application_at)
            then 'applying'
        when s.interactions_30d >= 3 or s.strong_signals > 0 then 'considering'
        when s.interactions > 0 then 'aware'
        when h.holds_now = 0 then 'lapsed'
    end as journey_stage,
    coalesce(s.interactions, 0) as interactions_in_lookback,
    s.last_signal_at,
    b.as_of
from related as r
inner join products using (product)
cross join boundary as b
left join signals as s on s.customer_key = r.customer_key and s.product = r.product
left join holdings as h on h.customer_key = r.customer_key and h.product = r.product
