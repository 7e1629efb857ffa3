{#- Every business event, one row per event, for the workflow sensor. Append-only: an event is
    copied here once from its event model and never rewritten. `event_seq` increases with
    every build, so a reader can keep a cursor; a unique index on it makes two concurrent
    builds fail instead of handing out the same numbers. -#}
{{ config(
    indexes=[
        {'columns': ['event_id'], 'unique': True},
        {'columns': ['event_seq'], 'unique': True},
        {'columns': ['event_type', 'occurred_at']},
        {'columns': ['tenant_id', 'customer_id']},
        {'columns': ['emitted_at']},
    ],
) }}

{%- set event_models = [
    'estimate_created',
    'estimate_approved',
    'estimate_rejected',
    'job_created',
    'job_completed',
    'install_job_created',
    'invoice_created',
    'invoice_overdue',
    'appointment_created',
] %}

with

all_events as (

    {% for name in event_models %}
    select {{ event_columns() }} from {{ ref(name) }}
    {%- if is_incremental() %}
    where emitted_at > (
        select coalesce(max(emitted_at), '-infinity'::timestamptz) from {{ this }}
    ) - interval '{{ var("event_lookback_hours") }} hours'
    {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

new_events as (

    select * from all_events
    where {{ not_yet_emitted('all_events.event_id') }}

),

numbered as (

    select
        {%- if is_incremental() %}
        (select coalesce(max(event_seq), 0) from {{ this }})
        {%- else %}
        0
        {%- endif %}
            + row_number() over (order by occurred_at, event_type, event_id) as event_seq,
        {{ event_columns() }}
    from new_events

)

select * from numbered
