with

source as (

    select * from {{ source('servicetitan', 'st_customers') }}
    where deleted_at is null

),

renamed as (

    select
        tenant_id,
        id as customer_id,
        name as customer_name,
        type as customer_type,
        coalesce(active, false) as is_active,
        merged_to_id as merged_to_customer_id,
        merged_to_id is not null as is_merged,
        cast(balance as numeric(14, 2)) as st_balance,
        coalesce(do_not_mail, false) as do_not_mail,
        coalesce(do_not_service, false) as do_not_service,
        street,
        city,
        state,
        zip,
        created_on as created_at,
        modified_on as modified_at,
        synced_at

    from source

)

select * from renamed
