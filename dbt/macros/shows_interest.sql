{#
  Whether an interaction reached the customer as a touch: not what failed to arrive, bounced, or
  the customer's stop (an opt-out or unsubscribe). Journeys and attribution count these touches.
#}
{% macro is_touch(interaction_type) -%}
    (not regexp_matches({{ interaction_type }}, '_(failed|bounce|opt_out|unsubscribe)$'))
{%- endmacro %}

{#
  Whether an interaction is a sign of the customer's interest in its product: a touch, and not the
  platform's own next-best-action messages (push and SMS sends, emails of a campaign with the
  var nba_campaign_prefix): counting them would let a mortgage push raise mortgage intent and earn
  more mortgage pushes. Earlier campaign emails still count: whom the bank chose to email about a
  product is history the models learn from.
#}
{% macro shows_interest(interaction_type, detail) -%}
    ({{ is_touch(interaction_type) }}
        and {{ interaction_type }} not in ('push_send', 'sms_send')
        and not ({{ interaction_type }} = 'email_send'
            and coalesce({{ detail }}, '') like '{{ var("nba_campaign_prefix") }}%'))
{%- endmacro %}
