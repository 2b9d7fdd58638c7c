-- Where each customer key lives on: a current key is its own successor; a key merged away
-- (identity.customer_key_history, event 'merged') lives on in the key it merged into, following
-- merges of merges. Retired keys have none. Push and SMS events, addressed by the key the message
-- was sent with, reach the right customer through this, including an SMS STOP.
with recursive merges as (
    select customer_key, related_key
    from {{ source('identity', 'customer_key_history') }}
    where event = 'merged' and related_key is not null
    qualify row_number() over (partition by customer_key order by recorded_at desc) = 1
),

walk (sent_key, customer_key, hops) as (
    select customer_key, related_key, 1 from merges
    union all
    select w.sent_key, m.related_key, w.hops + 1
    from walk as w
    inner join merges as m on m.customer_key = w.customer_key
    where w.hops < 50  -- a cycle cannot occur, but never loop forever
),

current_keys as (
    select distinct customer_key from {{ ref('int_identity_map') }}
)

select c.customer_key as sent_key, c.customer_key
from current_keys as c
union all
select w.sent_key, arg_max(w.customer_key, w.hops)
from walk as w
inner join current_keys as c on c.customer_key = w.customer_key
where w.sent_key not in (select customer_key from current_keys)
group by w.sent_key
