-- Churn labels: did a customer holding products at a snapshot close one of them in the label
-- window after it? Closures are read from each holding's latest version known by the window's end.

with holdings as (
    select customer_key, as_of, holding_id, opened_at, closed_at
    from (select customer_key, as_of, holding_id, product, opened_at, closed_at, balance from (
        select m.customer_key, b.as_of, p.holding_id, p.product, p.opened_at, p.closed_at, p.balance,
            row_number() over (partition by b.as_of, p.holding_id order by p.updated_at desc) as _rank
        from "warehouse"."staging"."stg_crm__products" as p
        inner join "warehouse"."intermediate"."int_identity_map" as m on m.record_id = p.record_id
        inner join "warehouse"."training"."training_snapshots" as b
            on p.updated_at < b.as_of and p.opened_at < cast(b.as_of as date)
    ) as ranked
    where _rank = 1) as h
),

closures as (
    select p.holding_id, s.as_of, p.closed_at
    from (
        select p.*, s.as_of,
            row_number() over (partition by s.as_of, p.holding_id order by p.updated_at desc) as _rank
        from "warehouse"."staging"."stg_crm__products" as p
        inner join "warehouse"."training"."training_snapshots" as s on p.updated_at < s.label_window_end
    ) as p
    inner join "warehouse"."training"."training_snapshots" as s on s.as_of = p.as_of
    where p._rank = 1
        and p.closed_at >= cast(s.as_of as date)
        and p.closed_at < cast(s.label_window_end as date)
)

select
    h.customer_key,
    h.as_of,
    count(*) as products_open,
    max(case when c.holding_id is not null then 1 else 0 end) as churned
from holdings as h
inner join "warehouse"."training"."customer_feature_snapshots" as k
    on k.customer_key = h.customer_key and k.as_of = h.as_of
left join closures as c on c.holding_id = h.holding_id and c.as_of = h.as_of
where h.closed_at is null or h.closed_at >= cast(h.as_of as date)
group by h.customer_key, h.as_of