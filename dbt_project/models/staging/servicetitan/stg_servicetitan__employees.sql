with

source as (

    select * from {{ source('servicetitan', 'st_employees') }}
    where deleted_at is null

),

renamed as (

    select
        tenant_id,
        id as employee_id,
        user_id,
        name as employee_name,
        lower(email) as email,
        {{ normalize_phone('phone_number') }} as phone_e164,
        role,
        business_unit_id,
        coalesce(active, false) as is_active,
        created_on as created_at,
        modified_on as modified_at,
        synced_at

    from source

)

select * from renamed
