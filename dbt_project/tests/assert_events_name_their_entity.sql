{#- Each event carries the id of the record it is about (and its customer), so a workflow can
    act on it without another query. A missed call is about a caller, who may be no customer
    yet: it carries the caller's number instead. -#}
select event_id, event_type
from {{ ref('workflow_events') }}
where (customer_id is null and event_type <> 'call_missed')
    or (event_type = 'call_missed' and payload -> 'customer' ->> 'phone' is null)
    or (event_type like 'estimate_%' and estimate_id is null)
    or (event_type in ('job_created', 'job_completed', 'install_job_created') and job_id is null)
    or (event_type like 'invoice_%' and invoice_id is null)
    or (event_type = 'appointment_created' and appointment_id is null)
    or (payload -> 'customer' ->> 'id' is null and event_type <> 'call_missed')
