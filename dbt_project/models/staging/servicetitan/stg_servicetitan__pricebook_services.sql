with

source as (

    select * from {{ source('servicetitan_pricebook', 'services') }}
    where deleted_at is null

),

renamed as (

    select
        tenant_id,
        id as service_id,
        code as sku_code,
        display_name,
        description,
        cast(price as numeric(14, 2)) as price,
        cast(member_price as numeric(14, 2)) as member_price,
        cast(cost as numeric(14, 2)) as cost,
        coalesce(active, false) as is_active,
        cast(hours as numeric(8, 2)) as hours,
        business_unit_id,
        created_on as created_at,
        modified_on as modified_at,
        synced_at

    from source

)

select * from renamed
