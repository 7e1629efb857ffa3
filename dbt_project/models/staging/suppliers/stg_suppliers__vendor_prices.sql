with

source as (

    select * from {{ source('suppliers', 'vendor_prices') }}

),

renamed as (

    select
        id as price_change_id,
        vendor,
        sku,
        cast(price as numeric(14, 2)) as price,
        availability,
        unit,
        branch,
        fetched_at,
        recorded_at

    from source

)

select * from renamed
