{#- An event's id is the hash of its type, tenant, entity and threshold: a rebuild that met the
    same event again would compute the same id and skip it. -#}
select event_id, event_type
from {{ ref('workflow_events') }}
where event_id <> md5(
    event_type || ':' || tenant_id::text || ':'
    || case
        when event_type like 'estimate_%' then estimate_id
        when event_type like 'invoice_%' then invoice_id
        when event_type = 'appointment_created' then appointment_id
        else job_id
    end::text
    || ':' || coalesce(payload ->> 'threshold_days', '')
)
