with

source as (

    select * from {{ source('servicetitan', 'st_installed_equipment') }}
    where deleted_at is null

),

renamed as (

    select
        tenant_id,
        id as installed_equipment_id,
        location_id,
        customer_id,
        equipment_id,
        name as equipment_name,
        manufacturer,
        model,
        serial_number,
        cast(cost as numeric(14, 2)) as cost,
        installed_on as installed_at,
        coalesce(active, false) as is_active,
        created_on as created_at,
        modified_on as modified_at,
        synced_at

    from source

)

select * from renamed
