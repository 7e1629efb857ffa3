{#- An unpaid invoice reached a configured number of days past its due date (var
    overdue_thresholds_days, default 1, 7, 14 and 30). Fires once per invoice and threshold,
    at due date + threshold, and only while the invoice is unpaid: balance due, computed from
    the invoice and the payments applied to it, above 0 at `as_of`. A threshold passed after
    the invoice was paid never fires. Time-based, so unpaid invoices are looked at on each
    build whether or not they changed; an incremental build looks only for thresholds passed
    within backfill_max_age_days (an older one found now would be history, `is_backfill`),
    which bounds the work by recent due dates instead of every unpaid invoice ever.
    It reads the raw tables through staging views; the two lines below name them as its
    sources, so the model rebuilds after every invoices and payments sync. -#}
-- depends_on: {{ source('servicetitan', 'st_invoices') }}
-- depends_on: {{ source('servicetitan', 'st_payments') }}
with

thresholds as (

    select cast(days as integer) as threshold_days
    from unnest(array[
        {%- for d in var('overdue_thresholds_days') %}{{ d }}{{ ',' if not loop.last }}{% endfor -%}
    ]::integer[]) as days

),

unpaid_by_st as (

    select * from {{ ref('stg_servicetitan__invoices') }}
    where is_active
        and st_balance > 0
        and due_at is not null
        and due_at < {{ as_of() }}
        {%- if is_incremental() %}
        and due_at >= {{ as_of() }} - interval '{{
            var("backfill_max_age_days") + var("overdue_thresholds_days") | max }} days'
        {%- endif %}

),

unpaid as materialized (

    {#- The balance is the invoice's, whatever the threshold: worked out once per invoice, and
        only for the invoices still unpaid are the thresholds crossed and looked up among the
        emitted events (most invoices ServiceTitan still shows a balance for are paid). Only
        the columns this needs: the rest of an event's invoice is read for its events alone. -#}
    select * from (
        select
            candidate.tenant_id,
            candidate.invoice_id,
            candidate.customer_id,
            candidate.job_id,
            candidate.due_at,
            candidate.total,
            candidate.modified_at,
            paid.amount_applied,
            {{ balance_due('candidate.total', 'candidate.st_balance', 'paid.amount_applied') }}
                as balance_due
        from unpaid_by_st as candidate
        {{ invoice_payment_lookup() }}
    ) as with_balance
    where balance_due > 0

),

crossed as (

    select
        {{ event_id('invoice_overdue', 'invoice_id', 'threshold_days') }} as event_id,
        unpaid.*,
        thresholds.threshold_days,
        due_at + make_interval(days => thresholds.threshold_days) as occurred_at
    from unpaid
    cross join thresholds
    where due_at + make_interval(days => thresholds.threshold_days) <= {{ as_of() }}
        {%- if is_incremental() %}
        and due_at + make_interval(days => thresholds.threshold_days)
            >= {{ as_of() }} - interval '{{ var("backfill_max_age_days") }} days'
        {%- endif %}

),

new_crossings as (

    select * from crossed
    where {{ not_yet_emitted('crossed.event_id') }}

),

final as (

    select
        candidate.event_id,
        'invoice_overdue' as event_type,
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
                'reference_number', invoice.reference_number,
                'summary', invoice.summary,
                'total', candidate.total,
                'amount_paid', coalesce(candidate.amount_applied, 0),
                'balance', candidate.balance_due,
                'invoiced_at', invoice.invoiced_at,
                'due_date', cast(candidate.due_at as date)
            ),
            'threshold_days', candidate.threshold_days,
            'is_backfill', {{ is_backfill('candidate.occurred_at') }}
        ) as payload,
        {{ is_backfill('candidate.occurred_at') }} as is_backfill,
        candidate.modified_at as source_modified_at,
        now() as emitted_at

    from new_crossings as candidate
    left join lateral (
        select * from {{ ref('stg_servicetitan__invoices') }} as one
        where one.tenant_id = candidate.tenant_id
            and one.invoice_id = candidate.invoice_id
        limit 1
    ) as invoice on true
    {{ customer_lookups() }}

)

select {{ event_columns() }} from final
