-- Channel labels: when contacted on a channel in the label window after a snapshot, did the
-- customer engage (open or click) there? One row per known customer, snapshot and channel they
-- were contacted on. A channel's contacts are interactions "<channel>_send", its responses
-- "<channel>_open" and "<channel>_click", so a channel the platform starts using trains as soon
-- as its deliveries and responses reach the timeline.

with contacts as (
    select
        f.customer_key,
        s.as_of,
        f.channel,
        count(case when f.interaction_type = f.channel || '_send' then 1 end) as contacts,
        max(case when f.interaction_type in (f.channel || '_open', f.channel || '_click')
            then 1 else 0 end) as engaged
    from "warehouse"."marts"."fct_interactions" as f
    inner join "warehouse"."training"."training_snapshots" as s
        on f.occurred_at >= s.as_of and f.occurred_at < s.label_window_end
    where f.channel in ('email', 'sms', 'push')
    group by f.customer_key, s.as_of, f.channel
)

select c.customer_key, c.as_of, c.channel, c.contacts, c.engaged
from contacts as c
inner join "warehouse"."training"."customer_feature_snapshots" as k
    on k.customer_key = c.customer_key and k.as_of = c.as_of
where c.contacts > 0