{# Each holding as the CRM knew it just before the as_of boundary, keyed by customer. #}
{% macro holdings_as_of() -%}
    select customer_key, holding_id, product, opened_at, closed_at, balance from (
        select m.customer_key, p.holding_id, p.product, p.opened_at, p.closed_at, p.balance,
            row_number() over (partition by p.holding_id order by p.updated_at desc) as _rank
        from {{ ref('stg_crm__products') }} as p
        inner join {{ ref('int_identity_map') }} as m on m.record_id = p.record_id
        where p.updated_at < {{ as_of() }}
            and p.opened_at < cast({{ as_of() }} as date)
    ) as ranked
    where _rank = 1
{%- endmacro %}
