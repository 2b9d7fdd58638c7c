{# Models land in the schema their folder names (staging, intermediate, marts), not in
   "<target schema>_<name>": the warehouse is shared by every stage and named plainly. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name is not none else target.schema }}
{%- endmacro %}
