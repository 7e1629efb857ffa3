with

source as (

    select * from {{ source('servicetitan', 'st_job_types') }}
    where deleted_at is null

),

renamed as (

    select
        tenant_id,
        id as job_type_id,
        name as job_type_name,
        priority,
        class as job_class,
        duration as duration_seconds,
        cast(sold_threshold as numeric(14, 2)) as sold_threshold,
        coalesce(active, false) as is_active,
        created_on as created_at,
        modified_on as modified_at,
        synced_at

    from source

)

select * from renamed
