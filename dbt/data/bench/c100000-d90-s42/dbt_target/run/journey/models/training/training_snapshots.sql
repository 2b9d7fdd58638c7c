
    

    create  table
      "warehouse"."training"."training_snapshots__dbt_tmp"
  
    
    as (
      -- The past dates training sets are built as of: one every training_snapshot_every_days, going back
-- from the latest date whose label window is complete (the last day with data counts as partial),
-- and no earlier than training_min_history_days after the first interaction, so features have
-- history to look back on. snapshots_back 0 is the most recent.




with span as (
    select
        cast(min(occurred_at) as date) as first_day,
        cast(cast((select 

    (max(occurred_at) + cast(1 as bigint) * interval 1 microsecond) from "warehouse"."intermediate"."int_interactions") as date) as timestamp) as last_window_end
    from "warehouse"."marts"."fct_interactions"
    where occurred_at < (select 

    (max(occurred_at) + cast(1 as bigint) * interval 1 microsecond) from "warehouse"."intermediate"."int_interactions")
),

candidates as (
    
    select
        0 as snapshots_back,
        

    (last_window_end + cast(-14 as bigint) * interval 1 day) as as_of
    from span
    union all
    
    select
        1 as snapshots_back,
        

    (last_window_end + cast(-21 as bigint) * interval 1 day) as as_of
    from span
    union all
    
    select
        2 as snapshots_back,
        

    (last_window_end + cast(-28 as bigint) * interval 1 day) as as_of
    from span
    union all
    
    select
        3 as snapshots_back,
        

    (last_window_end + cast(-35 as bigint) * interval 1 day) as as_of
    from span
    union all
    
    select
        4 as snapshots_back,
        

    (last_window_end + cast(-42 as bigint) * interval 1 day) as as_of
    from span
    union all
    
    select
        5 as snapshots_back,
        

    (last_window_end + cast(-49 as bigint) * interval 1 day) as as_of
    from span
    union all
    
    select
        6 as snapshots_back,
        

    (last_window_end + cast(-56 as bigint) * interval 1 day) as as_of
    from span
    union all
    
    select
        7 as snapshots_back,
        

    (last_window_end + cast(-63 as bigint) * interval 1 day) as as_of
    from span
    
    
)

select
    c.snapshots_back,
    c.as_of,
    

    (c.as_of + cast(14 as bigint) * interval 1 day) as label_window_end
from candidates as c
cross join span as s
where c.as_of >= 

    (cast(s.first_day as timestamp) + cast(14 as bigint) * interval 1 day)
    );
    
  