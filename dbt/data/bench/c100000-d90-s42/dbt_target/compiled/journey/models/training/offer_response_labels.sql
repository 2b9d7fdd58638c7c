-- Offer labels: did the customer start an application for the offered product (and did one
-- convert) in the label window after each snapshot? One row per known customer, snapshot and offer.

with offers as (
    
    select 'mortgage' as offer
    union all
    
    select 'credit_card' as offer
    union all
    
    select 'savings' as offer
    union all
    
    select 'insurance' as offer
    union all
    
    select 'personal_loan' as offer
    
    
),

applications as (
    select m.customer_key, a.product, a.stage, a.occurred_at
    from "warehouse"."staging"."stg_outcomes__applications" as a
    inner join "warehouse"."intermediate"."int_identity_map" as m on m.record_id = a.record_id
    where a.stage in ('started', 'converted')
)

select
    f.customer_key,
    f.as_of,
    o.offer,
    max(case when a.stage = 'started' then 1 else 0 end) as applied,
    max(case when a.stage = 'converted' then 1 else 0 end) as converted
from "warehouse"."training"."customer_feature_snapshots" as f
inner join "warehouse"."training"."training_snapshots" as s on s.as_of = f.as_of
cross join offers as o
left join applications as a
    on a.customer_key = f.customer_key
    and a.product = o.offer
    and a.occurred_at >= f.as_of
    and a.occurred_at < s.label_window_end
group by f.customer_key, f.as_of, o.offer