with

source as (

    select * from {{ source('servicetitan', 'st_invoice_items') }}
    where deleted_at is null

),

renamed as (

    select
        tenant_id,
        id as invoice_item_id,
        invoice_id,
        sku_id,
        sku_name,
        type as item_type,
        description,
        cast(quantity as numeric(14, 4)) as quantity,
        cast(price as numeric(14, 2)) as unit_price,
        cast(total as numeric(14, 2)) as total,
        cast(cost as numeric(14, 2)) as unit_cost,
        cast(total_cost as numeric(14, 2)) as total_cost,
        technician_id,
        estimate_item_id,
        created_on as created_at,
        modified_on as modified_at,
        synced_at

    from source

)

select * from renamed
