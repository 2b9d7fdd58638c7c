select
    call_id,
    call_started_at as occurred_at,
    caller_phone,
    caller_name,
    customer_id,
    reason_code,
    case
        when reason_code in ('mortgage_preapproval', 'mortgage_rates') then 'mortgage'
        when reason_code = 'card_enquiry' then 'credit_card'
        when reason_code = 'savings_rates' then 'savings'
        when reason_code = 'insurance_quote' then 'insurance'
        when reason_code = 'loan_enquiry' then 'personal_loan'
    end as product_topic,
    disposition,
    duration_seconds,
    agent_id,
    note,
    'contact_centre__calls:' || call_id as record_id,
    _source_file,
    _row_number,
    _loaded_at
from "warehouse"."raw"."contact_centre__calls"