{#
  Whether an interaction is a sign of the customer's interest in its product. Not the platform's
  own next-best-action messages (push and SMS sends, emails of an 'nba-' campaign): counting them
  would let a mortgage push raise mortgage intent and earn more mortgage pushes. Not what failed to
  arrive or an opt-out either. Earlier campaign emails still count: whom the bank chose to email
  about a product is history the models learn from.
#}
{% macro shows_interest(interaction_type, detail) -%}
    (not regexp_matches({{ interaction_type }}, '_(failed|bounce|opt_out|unsubscribe)$')
        and {{ interaction_type }} not in ('push_send', 'sms_send')
        and not ({{ interaction_type }} = 'email_send' and coalesce({{ detail }}, '') like 'nba-%'))
{%- endmacro %}
