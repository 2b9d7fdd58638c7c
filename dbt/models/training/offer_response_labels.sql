-- Offer labels: did the customer start an application for the offered product (and did one
-- convert) in the label window after each snapshot? One row per known customer, snapshot and offer.

with offers as (
    {% for product in product_topics() %}
    select '{{ product }}' as offer
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

applications as (
    select m.customer_key, a.product, a.stage, a.occurred_at
    from {{ ref('stg_outcomes__applications') }} as a
    inner join {{ ref('int_identity_map') }} as m on m.record_id = a.record_id
    where a.stage in ('started', 'converted')
)

select
    f.customer_key,
    f.as_of,
    o.offer,
    max(case when a.stage = 'started' then 1 else 0 end) as applied,
    max(case when a.stage = 'converted' then 1 else 0 end) as converted
from {{ ref('customer_feature_snapshots') }} as f
inner join {{ ref('training_snapshots') }} as s on s.as_of = f.as_of
cross join offers as o
left join applications as a
    on a.customer_key = f.customer_key
    and a.product = o.offer
    and a.occurred_at >= f.as_of
    and a.occurred_at < s.label_window_end
group by f.customer_key, f.as_of, o.offer
