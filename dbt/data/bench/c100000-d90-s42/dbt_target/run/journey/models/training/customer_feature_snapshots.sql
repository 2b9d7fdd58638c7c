
    

    create  table
      "warehouse"."training"."customer_feature_snapshots__dbt_tmp"
  
    
    as (
      -- customer_features as of every training snapshot, for the customers known by then (an
-- interaction or a holding before the snapshot): the feature side of every training set.
select *
from (



with boundary as (
    select as_of from "warehouse"."training"."training_snapshots" as b
),

interactions as (
    select f.*, b.as_of, 
        (date_diff('day', f.occurred_at::timestamp, b.as_of::timestamp ))
     as age_days
    from "warehouse"."marts"."fct_interactions" as f
    inner join boundary as b on f.occurred_at < b.as_of
),

holdings as (
    select customer_key, as_of, holding_id, product, opened_at, closed_at, balance from (
        select m.customer_key, b.as_of, p.holding_id, p.product, p.opened_at, p.closed_at, p.balance,
            row_number() over (partition by b.as_of, p.holding_id order by p.updated_at desc) as _rank
        from "warehouse"."staging"."stg_crm__products" as p
        inner join "warehouse"."intermediate"."int_identity_map" as m on m.record_id = p.record_id
        inner join boundary as b
            on p.updated_at < b.as_of and p.opened_at < cast(b.as_of as date)
    ) as ranked
    where _rank = 1
),

activity as (
    select
        customer_key,
        as_of,
        max(occurred_at) as last_interaction_at,
        
        count(case when channel = 'web' and age_days < 30 then 1 end)
            as web_interactions_30d,
        max(case when channel = 'web' then occurred_at end)
            as last_web_at,
        
        count(case when channel = 'app' and age_days < 30 then 1 end)
            as app_interactions_30d,
        max(case when channel = 'app' then occurred_at end)
            as last_app_at,
        
        count(case when channel = 'email' and age_days < 30 then 1 end)
            as email_interactions_30d,
        max(case when channel = 'email' then occurred_at end)
            as last_email_at,
        
        count(case when channel = 'contact_centre' and age_days < 30 then 1 end)
            as contact_centre_interactions_30d,
        max(case when channel = 'contact_centre' then occurred_at end)
            as last_contact_centre_at,
        
        count(case when channel = 'branch' and age_days < 30 then 1 end)
            as branch_interactions_30d,
        max(case when channel = 'branch' then occurred_at end)
            as last_branch_at,
        
        
        
        count(case when product_topic = 'mortgage' and age_days < 7 then 1 end)
            as mortgage_intent_7d,
        
        count(case when product_topic = 'mortgage' and age_days < 30 then 1 end)
            as mortgage_intent_30d,
        
        count(case when product_topic = 'mortgage' and age_days < 90 then 1 end)
            as mortgage_intent_90d,
        
        
        
        count(case when product_topic = 'credit_card' and age_days < 7 then 1 end)
            as credit_card_intent_7d,
        
        count(case when product_topic = 'credit_card' and age_days < 30 then 1 end)
            as credit_card_intent_30d,
        
        count(case when product_topic = 'credit_card' and age_days < 90 then 1 end)
            as credit_card_intent_90d,
        
        
        
        count(case when product_topic = 'savings' and age_days < 7 then 1 end)
            as savings_intent_7d,
        
        count(case when product_topic = 'savings' and age_days < 30 then 1 end)
            as savings_intent_30d,
        
        count(case when product_topic = 'savings' and age_days < 90 then 1 end)
            as savings_intent_90d,
        
        
        
        count(case when product_topic = 'insurance' and age_days < 7 then 1 end)
            as insurance_intent_7d,
        
        count(case when product_topic = 'insurance' and age_days < 30 then 1 end)
            as insurance_intent_30d,
        
        count(case when product_topic = 'insurance' and age_days < 90 then 1 end)
            as insurance_intent_90d,
        
        
        
        count(case when product_topic = 'personal_loan' and age_days < 7 then 1 end)
            as personal_loan_intent_7d,
        
        count(case when product_topic = 'personal_loan' and age_days < 30 then 1 end)
            as personal_loan_intent_30d,
        
        count(case when product_topic = 'personal_loan' and age_days < 90 then 1 end)
            as personal_loan_intent_90d,
        
        
        count(case when interaction_type = 'email_send' and age_days < 90 then 1 end)
            as emails_sent_90d,
        count(case when interaction_type = 'email_open' and age_days < 90 then 1 end)
            as emails_opened_90d,
        count(case when interaction_type = 'email_click' and age_days < 90 then 1 end)
            as emails_clicked_90d,
        count(case when interaction_type = 'calculator_submit' and age_days < 30 then 1 end)
            as calculator_submits_30d,
        count(case when interaction_type = 'call' and age_days < 90 then 1 end) as calls_90d,
        count(case when interaction_type = 'call' and detail = 'complaint' and age_days < 90 then 1 end)
            as complaint_calls_90d,
        count(case when interaction_type like 'application_%' and age_days < 90 then 1 end)
            as application_events_90d
    from interactions
    group by customer_key, as_of
),

held as (
    select
        customer_key,
        as_of,
        count(case when closed_at is null or closed_at >= cast(as_of as date) then 1 end)
            as products_held,
        
        max(case when product = 'mortgage'
            and (closed_at is null or closed_at >= cast(as_of as date))
            then 1 else 0 end) as holds_mortgage,
        
        max(case when product = 'credit_card'
            and (closed_at is null or closed_at >= cast(as_of as date))
            then 1 else 0 end) as holds_credit_card,
        
        max(case when product = 'savings'
            and (closed_at is null or closed_at >= cast(as_of as date))
            then 1 else 0 end) as holds_savings,
        
        max(case when product = 'insurance'
            and (closed_at is null or closed_at >= cast(as_of as date))
            then 1 else 0 end) as holds_insurance,
        
        max(case when product = 'personal_loan'
            and (closed_at is null or closed_at >= cast(as_of as date))
            then 1 else 0 end) as holds_personal_loan,
        
        max(case when product = 'current_account'
            and (closed_at is null or closed_at >= cast(as_of as date))
            then 1 else 0 end) as holds_current_account,
        
        sum(case when closed_at is null then coalesce(balance, 0) else 0 end) as total_balance,
        min(opened_at) as first_product_opened_at
    from holdings
    group by customer_key, as_of
)

select
    c.customer_key,
    b.as_of,
    a.last_interaction_at,
    
        (date_diff('day', a.last_interaction_at::timestamp, b.as_of::timestamp ))
     as days_since_last_interaction,
    
    coalesce(a.web_interactions_30d, 0) as web_interactions_30d,
    
        (date_diff('day', a.last_web_at::timestamp, b.as_of::timestamp ))
     as days_since_web,
    
    coalesce(a.app_interactions_30d, 0) as app_interactions_30d,
    
        (date_diff('day', a.last_app_at::timestamp, b.as_of::timestamp ))
     as days_since_app,
    
    coalesce(a.email_interactions_30d, 0) as email_interactions_30d,
    
        (date_diff('day', a.last_email_at::timestamp, b.as_of::timestamp ))
     as days_since_email,
    
    coalesce(a.contact_centre_interactions_30d, 0) as contact_centre_interactions_30d,
    
        (date_diff('day', a.last_contact_centre_at::timestamp, b.as_of::timestamp ))
     as days_since_contact_centre,
    
    coalesce(a.branch_interactions_30d, 0) as branch_interactions_30d,
    
        (date_diff('day', a.last_branch_at::timestamp, b.as_of::timestamp ))
     as days_since_branch,
    
    
    
    coalesce(a.mortgage_intent_7d, 0) as mortgage_intent_7d,
    
    coalesce(a.mortgage_intent_30d, 0) as mortgage_intent_30d,
    
    coalesce(a.mortgage_intent_90d, 0) as mortgage_intent_90d,
    
    
    
    coalesce(a.credit_card_intent_7d, 0) as credit_card_intent_7d,
    
    coalesce(a.credit_card_intent_30d, 0) as credit_card_intent_30d,
    
    coalesce(a.credit_card_intent_90d, 0) as credit_card_intent_90d,
    
    
    
    coalesce(a.savings_intent_7d, 0) as savings_intent_7d,
    
    coalesce(a.savings_intent_30d, 0) as savings_intent_30d,
    
    coalesce(a.savings_intent_90d, 0) as savings_intent_90d,
    
    
    
    coalesce(a.insurance_intent_7d, 0) as insurance_intent_7d,
    
    coalesce(a.insurance_intent_30d, 0) as insurance_intent_30d,
    
    coalesce(a.insurance_intent_90d, 0) as insurance_intent_90d,
    
    
    
    coalesce(a.personal_loan_intent_7d, 0) as personal_loan_intent_7d,
    
    coalesce(a.personal_loan_intent_30d, 0) as personal_loan_intent_30d,
    
    coalesce(a.personal_loan_intent_90d, 0) as personal_loan_intent_90d,
    
    
    coalesce(a.emails_sent_90d, 0) as emails_sent_90d,
    coalesce(a.emails_opened_90d, 0) as emails_opened_90d,
    coalesce(a.emails_clicked_90d, 0) as emails_clicked_90d,
    case when a.emails_sent_90d > 0
        then cast(a.emails_opened_90d as double) / a.emails_sent_90d end as email_open_rate_90d,
    coalesce(a.calculator_submits_30d, 0) as calculator_submits_30d,
    coalesce(a.calls_90d, 0) as calls_90d,
    coalesce(a.complaint_calls_90d, 0) as complaint_calls_90d,
    coalesce(a.application_events_90d, 0) as application_events_90d,
    coalesce(h.products_held, 0) as products_held,
    
    coalesce(h.holds_mortgage, 0) as holds_mortgage,
    
    coalesce(h.holds_credit_card, 0) as holds_credit_card,
    
    coalesce(h.holds_savings, 0) as holds_savings,
    
    coalesce(h.holds_insurance, 0) as holds_insurance,
    
    coalesce(h.holds_personal_loan, 0) as holds_personal_loan,
    
    coalesce(h.holds_current_account, 0) as holds_current_account,
    
    coalesce(h.total_balance, 0) as total_balance,
    
        (date_diff('day', h.first_product_opened_at::timestamp, cast(b.as_of as date)::timestamp ))
     as tenure_days
from (select distinct customer_key from "warehouse"."intermediate"."int_identity_map") as c
cross join boundary as b
left join activity as a on a.customer_key = c.customer_key and a.as_of = b.as_of
left join held as h on h.customer_key = c.customer_key and h.as_of = b.as_of
) as features
where last_interaction_at is not null or tenure_days is not null
    );
    
  