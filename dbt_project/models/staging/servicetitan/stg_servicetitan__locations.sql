with

source as (

    select * from {{ source('servicetitan', 'st_locations') }}
    where deleted_at is null

),

renamed as (

    select
        tenant_id,
        id as location_id,
        customer_id,
        name as location_name,
        coalesce(active, false) as is_active,
        merged_to_id as merged_to_location_id,
        street,
        city,
        state,
        zip,
        zone_id,
        created_on as created_at,
        modified_on as modified_at,
        synced_at

    from source

)

select * from renamed
