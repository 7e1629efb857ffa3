with

source as (

    select * from {{ source('servicetitan_pricebook', 'materials') }}
    where deleted_at is null

),

renamed as (

    select
        tenant_id,
        id as material_id,
        code as sku_code,
        display_name,
        description,
        cast(price as numeric(14, 2)) as price,
        cast(member_price as numeric(14, 2)) as member_price,
        cast(cost as numeric(14, 2)) as cost,
        coalesce(active, false) as is_active,
        created_on as created_at,
        modified_on as modified_at,
        synced_at

    from source

)

select * from renamed
