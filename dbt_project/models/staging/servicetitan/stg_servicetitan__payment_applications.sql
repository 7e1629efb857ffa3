{#- One row per invoice a payment was applied to. The raw `appliedTo` list is read by SQL
    function servicetitan.payment_applications (a migration), the same reading the balance
    due functions use at workflow time. -#}
with

source as (

    select * from {{ source('servicetitan', 'st_payments') }}
    where deleted_at is null
        and coalesce(active, true)

),

renamed as (

    select
        source.tenant_id,
        source.id as payment_id,
        source.customer_id,
        application.invoice_id,
        application.application_id,
        application.applied_amount,
        application.applied_at,
        source.synced_at

    from source
    cross join lateral servicetitan.payment_applications(source.raw) as application

)

select * from renamed
