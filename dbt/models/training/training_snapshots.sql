-- The past dates training sets are built as of: one every training_snapshot_every_days, going back
-- from the latest date whose label window is complete (the last day with data counts as partial),
-- and no earlier than training_min_history_days after the first interaction, so features have
-- history to look back on. snapshots_back 0 is the most recent.

{% set every = var('training_snapshot_every_days') %}
{% set label_days = var('training_label_days') %}

with span as (
    select
        cast(min(occurred_at) as date) as first_day,
        cast(cast({{ as_of() }} as date) as timestamp) as last_window_end
    from {{ ref('fct_interactions') }}
    where occurred_at < {{ as_of() }}
),

candidates as (
    {% for back in range(var('training_snapshots')) %}
    select
        {{ back }} as snapshots_back,
        {{ dbt.dateadd('day', -(label_days + back * every), 'last_window_end') }} as as_of
    from span
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    c.snapshots_back,
    c.as_of,
    {{ dbt.dateadd('day', label_days, 'c.as_of') }} as label_window_end
from candidates as c
cross join span as s
where c.as_of >= {{ dbt.dateadd('day', var('training_min_history_days'), 'cast(s.first_day as timestamp)') }}
