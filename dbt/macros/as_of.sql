{# The point-in-time boundary: the as_of var, else one microsecond after the latest interaction.
   Every mart that looks back in time filters "< as_of()", so nothing after it leaks in. #}
{% macro as_of() -%}
    {%- if var('as_of') -%}
        cast('{{ var("as_of") }}' as timestamp)
    {%- else -%}
        (select {{ dbt.dateadd('microsecond', 1, 'max(occurred_at)') }} from {{ ref('int_interactions') }})
    {%- endif -%}
{%- endmacro %}

{% macro product_topics() -%}
    {{ return(var('products')) }}
{%- endmacro %}
