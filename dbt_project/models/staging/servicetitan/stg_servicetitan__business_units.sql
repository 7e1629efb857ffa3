with

source as (

    select * from {{ source('servicetitan', 'st_business_units') }}
    where deleted_at is null

),

renamed as (

    select
        tenant_id,
        id as business_unit_id,
        name as business_unit_name,
        official_name,
        lower(email) as email,
        {{ normalize_phone('phone_number') }} as phone_e164,
        coalesce(active, false) as is_active,
        created_on as created_at,
        modified_on as modified_at,
        synced_at

    from source

)

select * from renamed
