with

source as (

    select * from {{ source('suppliers', 'material_vendor_map') }}

),

renamed as (

    select
        tenant_id,
        material_id,
        vendor,
        sku,
        match_method,
        match_method in ('override', 'vendor_part', 'manufacturer_part') as is_exact_match,
        cast(score as numeric(5, 2)) as match_score,
        matched_on,
        mapped_at

    from source

)

select * from renamed
