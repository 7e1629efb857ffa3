with

source as (

    select * from {{ source('servicetitan', 'st_appointment_assignments') }}
    where deleted_at is null

),

renamed as (

    select
        tenant_id,
        id as assignment_id,
        appointment_id,
        job_id,
        technician_id,
        technician_name,
        status as assignment_status,
        assigned_on as assigned_at,
        coalesce(active, false) as is_active,
        created_on as created_at,
        modified_on as modified_at,
        synced_at

    from source

)

select * from renamed
