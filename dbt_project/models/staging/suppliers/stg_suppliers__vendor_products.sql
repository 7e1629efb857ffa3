with

source as (

    select * from {{ source('suppliers', 'vendor_products') }}

),

renamed as (

    select
        vendor,
        sku,
        manufacturer_part,
        description,
        unit,
        cast(price as numeric(14, 2)) as price,
        availability,
        branch,
        url,
        fetched_at as last_seen_at,
        first_seen_at

    from source

)

select * from renamed
