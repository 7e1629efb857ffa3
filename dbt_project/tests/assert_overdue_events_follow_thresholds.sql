{#- invoice_overdue fires only at a configured threshold, at due date + threshold days, and only
    for an invoice with money still due when it fired. -#}
select event_id, invoice_id, payload
from {{ ref('workflow_events') }}
where event_type = 'invoice_overdue'
    and (
        cast(payload ->> 'threshold_days' as integer) not in (
            {%- for d in var('overdue_thresholds_days') %}{{ d }}{{ ',' if not loop.last }}{% endfor -%}
        )
        or cast(occurred_at at time zone 'UTC' as date)
            <> cast(payload -> 'invoice' ->> 'due_date' as date)
            + cast(payload ->> 'threshold_days' as integer)
        or cast(payload -> 'invoice' ->> 'balance' as numeric) <= 0
    )
