{#
  Whether an interaction is the customer's own doing, and so a sign of interest in its product:
  not what the platform sent (email, push and SMS sends), not what failed to arrive (bounces,
  failed sends), not an opt-out. Without this, contacting someone about a mortgage would raise
  their mortgage intent and earn them more mortgage contacts.
#}
{% macro shows_interest(interaction_type) -%}
    (not regexp_matches({{ interaction_type }}, '_(send|failed|bounce|opt_out|unsubscribe)$'))
{%- endmacro %}
