{# Each holding as the CRM knew it just before each boundary in `boundaries` (a relation or
   subquery with one column as_of), keyed by customer and boundary. #}
{% macro holdings_at(boundaries) -%}
    select customer_key, as_of, holding_id, product, opened_at, closed_at, balance from (
        select m.customer_key, b.as_of, p.holding_id, p.product, p.opened_at, p.closed_at, p.balance,
            row_number() over (partition by b.as_of, p.holding_id order by p.updated_at desc) as _rank
        from {{ ref('stg_crm__products') }} as p
        inner join {{ ref('int_identity_map') }} as m on m.record_id = p.record_id
        inner join {{ boundaries }} as b
            on p.updated_at < b.as_of and p.opened_at < cast(b.as_of as date)
    ) as ranked
    where _rank = 1
{%- endmacro %}

{# The same, as of the single as_of() boundary. #}
{% macro holdings_as_of() -%}
    {{ holdings_at('(select ' ~ as_of() ~ ' as as_of)') }}
{%- endmacro %}
