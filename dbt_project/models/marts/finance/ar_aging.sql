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
        coalesce(sum(balance_due) filter (where days_past_due = 0), 0) as current_due,
        coalesce(sum(balance_due) filter (where days_past_due between 1 and 30), 0)
            as past_due_1_30,
        coalesce(sum(balance_due) filter (where days_past_due between 31 and 60), 0)
            as past_due_31_60,
        coalesce(sum(balance_due) filter (where days_past_due between 61 and 90), 0)
            as past_due_61_90,
        coalesce(sum(balance_due) filter (where days_past_due > 90), 0) as past_due_over_90,
        max(days_past_due) as oldest_days_past_due

    from open_invoices
    group by tenant_id, customer_id

)

select * from final
