with

source as (

    select * from {{ source('servicetitan', 'st_payments') }}
    where deleted_at is null
        and coalesce(active, true)

),

applications as (

    select
        source.tenant_id,
        source.id as payment_id,
        source.customer_id,
        application.value as applied,
        source.synced_at
    from source
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(source.raw -> 'appliedTo') = 'array'
            then source.raw -> 'appliedTo' else '[]'::jsonb end
    ) as application

),

renamed as (

    select
        tenant_id,
        payment_id,
        customer_id,
        cast(applied ->> 'appliedTo' as bigint) as invoice_id,
        cast(applied ->> 'appliedId' as bigint) as application_id,
        cast(applied ->> 'appliedAmount' as numeric(14, 2)) as applied_amount,
        cast(applied ->> 'appliedOn' as timestamptz) as applied_at,
        synced_at

    from applications

)

select * from renamed
