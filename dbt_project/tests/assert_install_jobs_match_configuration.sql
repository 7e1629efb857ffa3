{#- install_job_created fires only for jobs whose type or business unit, as they were when the
    event fired, is configured as install work. -#}
select event_id, job_id, payload -> 'job' as job
from {{ ref('workflow_events') }}
where event_type = 'install_job_created'
    and not {{ is_install_job("payload -> 'job' ->> 'type'", "payload -> 'job' ->> 'business_unit'") }}
