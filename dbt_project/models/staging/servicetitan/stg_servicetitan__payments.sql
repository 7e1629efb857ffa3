with

source as (

    select * from {{ source('servicetitan', 'st_payments') }}
    where deleted_at is null

),

renamed as (

    select
        tenant_id,
        id as payment_id,
        customer_id,
        type as payment_type,
        cast(total as numeric(14, 2)) as amount,
        cast(unapplied_amount as numeric(14, 2)) as unapplied_amount,
        reference_number,
        paid_on as paid_at,
        coalesce(active, true) as is_active,
        created_on as created_at,
        modified_on as modified_at,
        synced_at

    from source

)

select * from renamed
