{#- The A/R ageing mart holds every invoice with money due (as the invoices mart says) once, its
    buckets add up to the total due, and its oldest age is the invoices mart's. -#}
with

owed as (

    select
        tenant_id,
        customer_id,
        count(*) as invoice_count,
        sum(balance_due) as total_due,
        max(days_past_due) as oldest_days_past_due
    from {{ ref('invoices') }}
    where balance_due > 0
    group by tenant_id, customer_id

)

select owed.*, aging.*
from owed
full join {{ ref('ar_aging') }} as aging using (tenant_id, customer_id)
where aging.open_invoice_count is distinct from owed.invoice_count
    or aging.total_due is distinct from owed.total_due
    or aging.oldest_days_past_due is distinct from owed.oldest_days_past_due
    or aging.total_due <> (
        {%- for b in ar_aging_buckets() %}
        aging.{{ b.column }}{{ ' +' if not loop.last }}
        {%- endfor %}
    )
