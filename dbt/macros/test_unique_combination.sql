{# No two rows share the same values in these columns (dbt packages are not installed here: the
   hub is outside the package index this project may reach). #}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
