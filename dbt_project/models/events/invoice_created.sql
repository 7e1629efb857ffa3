{#- An invoice was raised. Fires once per invoice. -#}
with

invoices as (

    select * from (
        {{ changed_rows(ref('stg_servicetitan__invoices'), source('servicetitan', 'st_invoices')) }}
    ) as changed
    where is_active

),

candidates as (

    select
        {{ event_id('invoice_created', 'invoice_id') }} as event_id,
        invoices.*,
        created_at as occurred_at
    from invoices

),

new_events as (

    select * from candidates
    where {{ not_yet_emitted('candidates.event_id') }}

),

final as (

    select
        candidate.event_id,
        'invoice_created' as event_type,
        candidate.tenant_id,
        candidate.occurred_at,
        candidate.customer_id,
        candidate.job_id,
        cast(null as bigint) as estimate_id,
        candidate.invoice_id,
        cast(null as bigint) as appointment_id,
        jsonb_build_object(
            'customer', {{ customer_payload() }},
            'invoice', jsonb_build_object(
                'id', candidate.invoice_id,
                'reference_number', candidate.reference_number,
                'summary', candidate.summary,
                'subtotal', candidate.subtotal,
                'sales_tax', candidate.sales_tax,
                'total', candidate.total,
                'balance', {{ balance_due('candidate.total', 'candidate.st_balance',
                                          'paid.amount_applied') }},
                'invoiced_at', candidate.invoiced_at,
                'due_date', cast(candidate.due_at as date)
            ),
            'is_backfill', {{ is_backfill('candidate.occurred_at') }}
        ) as payload,
        {{ is_backfill('candidate.occurred_at') }} as is_backfill,
        candidate.modified_at as source_modified_at,
        now() as emitted_at

    from new_events as candidate
    {{ customer_lookups() }}
    {{ invoice_payment_lookup() }}

)

select {{ event_columns() }} from final
