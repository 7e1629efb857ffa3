with

invoices as (

    select * from {{ ref('stg_servicetitan__invoices') }}

),

payments as (

    select * from {{ ref('int_invoice_payments') }}

),

customers as (

    select * from {{ ref('stg_servicetitan__customers') }}

),

balances as (

    select
        invoices.*,
        coalesce(payments.amount_applied, 0) as amount_paid,
        payments.last_payment_at,
        {{ balance_due('invoices.total', 'invoices.st_balance', 'payments.amount_applied') }}
            as balance_due
    from invoices
    left join payments using (tenant_id, invoice_id)

),

final as (

    select
        balances.tenant_id,
        balances.invoice_id,
        balances.reference_number,
        balances.customer_id,
        customers.customer_name,
        balances.location_id,
        balances.job_id,
        balances.business_unit_id,
        balances.invoiced_at,
        balances.due_at,
        balances.subtotal,
        balances.sales_tax,
        balances.total,
        balances.amount_paid,
        balances.balance_due,
        balances.balance_due = 0 as is_paid,
        case when balances.balance_due = 0
            then coalesce(balances.last_payment_at, balances.st_paid_at)
        end as paid_at,
        case when balances.balance_due > 0
            then public.days_past_due(balances.due_at, {{ as_of() }})
            else 0
        end as days_past_due,
        balances.created_at

    from balances
    left join customers using (tenant_id, customer_id)
    where balances.is_active

),

aged as (

    select
        final.*,
        public.ar_aging_bucket(final.days_past_due) as aging_bucket
    from final

)

select * from aged
