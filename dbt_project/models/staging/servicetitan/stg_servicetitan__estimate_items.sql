with

source as (

    select * from {{ source('servicetitan', 'st_estimate_items') }}
    where deleted_at is null

),

renamed as (

    select
        tenant_id,
        id as estimate_item_id,
        estimate_id,
        sku_id,
        sku_name,
        sku_type,
        description,
        cast(qty as numeric(14, 4)) as quantity,
        cast(unit_rate as numeric(14, 2)) as unit_price,
        cast(total as numeric(14, 2)) as total,
        cast(unit_cost as numeric(14, 2)) as unit_cost,
        cast(total_cost as numeric(14, 2)) as total_cost,
        invoice_item_id,
        created_on as created_at,
        modified_on as modified_at,
        synced_at

    from source

)

select * from renamed
