{#- install_job_created fires only for jobs whose type or business unit is configured as install
    work. A warning only: renaming a job type later legitimately changes the answer. -#}
{{ config(severity='warn') }}
select events.event_id, events.job_id
from {{ ref('workflow_events') }} as events
inner join {{ ref('stg_servicetitan__jobs') }} as jobs
    on jobs.tenant_id = events.tenant_id
    and jobs.job_id = events.job_id
left join {{ ref('stg_servicetitan__job_types') }} as job_types
    on job_types.tenant_id = jobs.tenant_id
    and job_types.job_type_id = jobs.job_type_id
left join {{ ref('stg_servicetitan__business_units') }} as business_units
    on business_units.tenant_id = jobs.tenant_id
    and business_units.business_unit_id = jobs.business_unit_id
where events.event_type = 'install_job_created'
    and not {{ is_install_job('job_types.job_type_name', 'business_units.business_unit_name') }}
