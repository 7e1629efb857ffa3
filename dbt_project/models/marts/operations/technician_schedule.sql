with

assignments as (

    select * from {{ ref('stg_servicetitan__appointment_assignments') }}
    where is_active

),

appointments as (

    select * from {{ ref('appointments') }}

),

technicians as (

    select * from {{ ref('stg_servicetitan__technicians') }}

),

locations as (

    select * from {{ ref('stg_servicetitan__locations') }}

),

jobs as (

    select tenant_id, job_id, location_id from {{ ref('stg_servicetitan__jobs') }}

),

final as (

    select
        assignments.tenant_id,
        assignments.assignment_id,
        assignments.technician_id,
        coalesce(technicians.technician_name, assignments.technician_name) as technician_name,
        cast(appointments.starts_at as date) as scheduled_date,
        appointments.starts_at,
        appointments.ends_at,
        appointments.appointment_id,
        appointments.appointment_number,
        appointments.appointment_status,
        assignments.assignment_status,
        appointments.job_id,
        appointments.job_number,
        appointments.job_type_name,
        appointments.customer_id,
        appointments.customer_name,
        locations.street,
        locations.city,
        locations.zip,
        appointments.special_instructions

    from assignments
    inner join appointments using (tenant_id, appointment_id)
    left join technicians using (tenant_id, technician_id)
    left join jobs
        on jobs.tenant_id = appointments.tenant_id
        and jobs.job_id = appointments.job_id
    left join locations
        on locations.tenant_id = jobs.tenant_id
        and locations.location_id = jobs.location_id

)

select * from final
