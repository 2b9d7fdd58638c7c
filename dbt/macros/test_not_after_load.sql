{# An event cannot have happened after the warehouse received it: a timestamp later than its own
   _loaded_at (plus a small clock-skew allowance) is in the future. #}
{% test not_after_load(model, column_name, skew_minutes=5) %}
select *
from {{ model }}
where {{ column_name }} > {{ dbt.dateadd('minute', skew_minutes, '_loaded_at') }}
{% endtest %}
