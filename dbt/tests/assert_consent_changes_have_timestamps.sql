-- A consent that changes between two versions of a CRM record must come with a new consent
-- timestamp; otherwise nobody can tell when the customer agreed or withdrew.
{% set channels = var('consent_channels') %}
with versions as (
    select
        *,
        {% for channel in channels %}
        lag(consent_{{ channel }}) over w as previous_consent_{{ channel }},
        lag(consent_{{ channel }}_at) over w as previous_consent_{{ channel }}_at{% if not loop.last %},{% endif %}
        {% endfor %}
    from {{ ref('stg_crm__customers') }}
    window w as (partition by customer_id order by updated_at)
)
{% for channel in channels %}
select customer_id, updated_at, '{{ channel }}' as channel
from versions
where previous_consent_{{ channel }} is not null
    and consent_{{ channel }} is distinct from previous_consent_{{ channel }}
    and (consent_{{ channel }}_at is null
        or consent_{{ channel }}_at is not distinct from previous_consent_{{ channel }}_at)
{% if not loop.last %}union all{% endif %}
{% endfor %}
