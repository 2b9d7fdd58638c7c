-- customer_features as of every training snapshot, for the customers known by then (an
-- interaction or a holding before the snapshot): the feature side of every training set.
select *
from ({{ customer_features(ref('training_snapshots')) }}) as features
where last_interaction_at is not null or tenure_days is not null
