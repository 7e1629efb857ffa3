with

source as (

    select * from {{ source('servicetitan', 'st_jobs') }}
    where deleted_at is null

),

renamed as (

    select
        tenant_id,
        id as job_id,
        job_number,
        customer_id,
        location_id,
        job_status,
        business_unit_id,
        job_type_id,
        campaign_id,
        priority,
        sold_by_id as sold_by_technician_id,
        nullif(invoice_id, 0) as invoice_id,
        created_from_estimate_id,
        raw ->> 'summary' as summary,
        cast(total as numeric(14, 2)) as job_total,
        coalesce(active, false) as is_active,
        completed_on as completed_at,
        created_on as created_at,
        modified_on as modified_at,
        synced_at

    from source

)

select * from renamed
