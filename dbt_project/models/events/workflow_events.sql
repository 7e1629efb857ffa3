{#- Every business event, one row per event, for the workflow sensor. Append-only: an event is
    copied here once from its event model and never rewritten. An incremental build copies
    the rows the event models recorded after the newest row copied so far (`emitted_at` is
    the start of the recording transaction, and the event models run before this model in the
    same dbt invocation), so its cost follows the new events, not the history. dbt builds of
    the events must not overlap (the Dagster pool `dbt_warehouse`); should two ever do,
    the unique index on `event_seq` makes one fail rather than hand out a number twice, and
    `event_id` keeps an event from being copied twice. `event_seq` is a reader's cursor. -#}
{{ config(
    indexes=[
        {'columns': ['event_id'], 'unique': True},
        {'columns': ['event_seq'], 'unique': True},
        {'columns': ['event_type', 'occurred_at']},
        {'columns': ['tenant_id', 'customer_id']},
        {'columns': ['emitted_at']},
    ],
) }}

{%- set event_models = event_types() %}

{#- The newest `emitted_at` copied so far, read first and written into the query as a
    constant: with a subquery there PostgreSQL cannot tell how many rows pass the filter,
    guesses a third of each event table, and checks the new ids against all of this table
    with a hash join over every row (seconds at a large tenant) instead of a few index probes. -#}
{%- set copied_up_to = "'-infinity'" -%}
{%- if execute and is_incremental() -%}
    {%- set newest = run_query(
        "select coalesce(max(emitted_at), '-infinity'::timestamptz)::text from " ~ this
    ).columns[0].values()[0] -%}
    {%- set copied_up_to = "'" ~ newest ~ "'" -%}
{%- endif %}

with

all_events as (

    {% for name in event_models %}
    select {{ event_columns() }} from {{ ref(name) }}
    {%- if is_incremental() %}
    where emitted_at > {{ copied_up_to }}::timestamptz
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
