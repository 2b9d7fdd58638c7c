-- The unified timeline: every interaction of a resolved customer, across web, app, contact
-- centre, email, branch and outcomes. Anonymous web traffic (devices that never logged in) stays
-- in int_interactions until a login ties it to someone.
select
    i.interaction_id,
    i.occurred_at,
    m.customer_key,
    i.channel,
    i.interaction_type,
    i.product_topic,
    i.detail,
    i.source_table,
    i.record_id,
    i._source_file,
    i._row_number
from "warehouse"."intermediate"."int_interactions" as i
inner join "warehouse"."intermediate"."int_identity_map" as m on m.record_id = i.record_id