with

source as (

    select * from {{ source('servicetitan', 'st_appointments') }}
    where deleted_at is null

),

renamed as (

    select
        tenant_id,
        id as appointment_id,
        job_id,
        customer_id,
        appointment_number,
        status as appointment_status,
        start_on as starts_at,
        end_on as ends_at,
        arrival_window_start as arrival_window_starts_at,
        arrival_window_end as arrival_window_ends_at,
        coalesce(is_confirmed, false) as is_confirmed,
        raw ->> 'specialInstructions' as special_instructions,
        coalesce(active, false) as is_active,
        created_on as created_at,
        modified_on as modified_at,
        synced_at

    from source

)

select * from renamed
