with

applications as (

    select * from {{ ref('stg_servicetitan__payment_applications') }}

),

per_invoice as (

    select
        tenant_id,
        invoice_id,
        sum(applied_amount) as amount_applied,
        count(*) as payment_count,
        max(applied_at) as last_payment_at
    from applications
    group by tenant_id, invoice_id

)

select * from per_invoice
