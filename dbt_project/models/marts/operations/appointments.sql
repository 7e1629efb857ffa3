with

appointments as (

    select * from {{ ref('stg_servicetitan__appointments') }}

),

assignments as (

    select
        tenant_id,
        appointment_id,
        string_agg(technician_name, ', ' order by technician_name) as technician_names,
        count(*) as technician_count
    from {{ ref('stg_servicetitan__appointment_assignments') }}
    where is_active
    group by tenant_id, appointment_id

),

jobs as (

    select * from {{ ref('jobs') }}

),

final as (

    select
        appointments.tenant_id,
        appointments.appointment_id,
        appointments.appointment_number,
        appointments.appointment_status,
        appointments.job_id,
        jobs.job_number,
        jobs.job_type_name,
        jobs.business_unit_name,
        appointments.customer_id,
        jobs.customer_name,
        appointments.starts_at,
        appointments.ends_at,
        appointments.arrival_window_starts_at,
        appointments.arrival_window_ends_at,
        appointments.is_confirmed,
        assignments.technician_names,
        coalesce(assignments.technician_count, 0) as technician_count,
        appointments.special_instructions,
        appointments.created_at

    from appointments
    left join assignments using (tenant_id, appointment_id)
    left join jobs using (tenant_id, job_id)
    where appointments.is_active

)

select * from final
