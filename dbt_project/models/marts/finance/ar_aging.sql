with

open_invoices as (

    select * from {{ ref('invoices') }}
    where balance_due > 0

),

final as (

    select
        tenant_id,
        customer_id,
        max(customer_name) as customer_name,
        count(*) as open_invoice_count,
        sum(balance_due) as total_due,
        {%- for b in ar_aging_buckets() %}
        coalesce(sum(balance_due) filter (where aging_bucket = '{{ b.bucket }}'), 0)
            as {{ b.column }},
        {%- endfor %}
        max(days_past_due) as oldest_days_past_due

    from open_invoices
    group by tenant_id, customer_id

)

select * from final
