-- The unified timeline: every interaction of a resolved customer, across web, app, contact
-- centre, email, branch and outcomes. Anonymous web traffic (devices that never logged in) stays
-- in int_interactions until a login ties it to someone. Push and SMS events come with the key
-- they were sent to, which may have merged into another since (int_customer_key_successors).
select
    i.interaction_id,
    i.occurred_at,
    coalesce(m.customer_key, k.customer_key) as customer_key,
    i.channel,
    i.interaction_type,
    i.product_topic,
    i.detail,
    {{ is_touch('i.interaction_type') }} as is_touch,
    {{ shows_interest('i.interaction_type', 'i.detail') }} as shows_interest,
    i.source_table,
    i.record_id,
    i._source_file,
    i._row_number
from {{ ref('int_interactions') }} as i
left join {{ ref('int_identity_map') }} as m on m.record_id = i.record_id
left join {{ ref('int_customer_key_successors') }} as k on k.sent_key = i.sent_to_customer_key
where coalesce(m.customer_key, k.customer_key) is not null
