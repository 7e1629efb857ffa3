with

source as (

    select * from {{ source('servicetitan', 'st_estimates') }}
    where deleted_at is null

),

renamed as (

    select
        tenant_id,
        id as estimate_id,
        job_id,
        customer_id,
        location_id,
        name as estimate_name,
        job_number,
        status as estimate_status,
        review_status,
        raw ->> 'summary' as summary,
        business_unit_id,
        sold_on as sold_at,
        sold_by as sold_by_technician_id,
        cast(coalesce(subtotal, 0) as numeric(14, 2)) as subtotal,
        cast(coalesce(tax, 0) as numeric(14, 2)) as tax,
        cast(coalesce(subtotal, 0) + coalesce(tax, 0) as numeric(14, 2)) as total,
        coalesce(active, false) as is_active,
        created_on as created_at,
        modified_on as modified_at,
        synced_at

    from source

)

select * from renamed
