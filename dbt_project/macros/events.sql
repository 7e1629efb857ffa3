{#- Building blocks shared by the event models in models/events/. -#}

{#- Every event type: the name of its model in models/events/ and its `event_type`, in the
    order workflow_events unions them. Python reads the same list from
    perfect_catch/warehouse/event_types.py; tests/dbt/test_event_types.py keeps the two equal. -#}
{% macro event_types() -%}
    {{ return([
        'estimate_created',
        'estimate_approved',
        'estimate_rejected',
        'job_created',
        'job_completed',
        'install_job_created',
        'invoice_created',
        'invoice_overdue',
        'appointment_created',
        'call_missed',
    ]) }}
{%- endmacro %}

{#- The instant events are evaluated at: var `as_of`, else the database's current time. -#}
{% macro as_of() -%}
    {%- if var('as_of', none) -%}
        cast('{{ var("as_of") }}' as timestamptz)
    {%- else -%}
        current_timestamp
    {%- endif -%}
{%- endmacro %}

{#- Stable id of an event: the same event type, tenant, entity and qualifier always hash to
    the same id, so a rebuild can recognise an event it already emitted. -#}
{% macro event_id(event_type, entity_id, qualifier="''") -%}
    md5('{{ event_type }}' || ':' || tenant_id::text || ':' || ({{ entity_id }})::text
        || ':' || coalesce(({{ qualifier }})::text, ''))
{%- endmacro %}

{#- The tenants that have rows in a raw table, read off its (tenant_id, modified_on) index with
    a loose index scan (one probe per tenant) instead of a scan of the table. -#}
{% macro tenants_of(raw_relation) -%}
    with recursive tenants as (
        select min(tenant_id) as tenant_id from {{ raw_relation }}
        union all
        select (select min(tenant_id) from {{ raw_relation }} where tenant_id > tenants.tenant_id)
        from tenants
        where tenants.tenant_id is not null
    )
    select tenant_id from tenants where tenant_id is not null
{%- endmacro %}

{#- The rows of staging model `model` worth looking at: all of them on a full build; on an
    incremental build, per tenant, the rows ServiceTitan modified since (event_lookback_hours
    before) the newest source version this model has emitted an event for. The per-tenant
    watermarks are read first and written into the query as constants, so PostgreSQL plans an
    index range scan on the raw table's (tenant_id, modified_on) index and the cost follows
    the number of changed rows, not the size of the table. The export feeds deliver each
    entity in modifiedOn order, so a row stored more than the lookback behind its
    predecessors is one ServiceTitan restored from long ago, which is not news. -#}
{% macro changed_rows(model, raw_relation) -%}
    {%- if is_incremental() -%}
        {%- set watermarks = [] -%}
        {%- if execute -%}
            {%- set query -%}
                select tenant.tenant_id, (
                    select (max(emitted.source_modified_at)
                        - interval '{{ var("event_lookback_hours") }} hours')::text
                    from {{ this }} as emitted
                    where emitted.tenant_id = tenant.tenant_id
                )
                from ({{ tenants_of(raw_relation) }}) as tenant
            {%- endset -%}
            {%- set watermarks = run_query(query).rows -%}
        {%- endif %}
        select * from {{ model }}
        where false
        {%- for tenant_id, since in watermarks %}
            or (tenant_id = {{ tenant_id }}
                {%- if since %} and modified_at > '{{ since }}'::timestamptz{% endif %})
        {%- endfor %}
    {%- else -%}
        select * from {{ model }}
    {%- endif -%}
{%- endmacro %}

{#- Never emit an event twice: drop candidates whose id this model already holds. -#}
{% macro not_yet_emitted(event_id_column='event_id') -%}
    {%- if is_incremental() -%}
        not exists (
            select 1 from {{ this }} as emitted where emitted.event_id = {{ event_id_column }}
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- History rather than news: everything a model finds on its first build (or while it has
    never emitted anything, i.e. the first load of its sources), and events that occurred more
    than `backfill_max_age_days` before `as_of`. -#}
{% macro is_backfill(occurred_at) -%}
    {%- if is_incremental() -%}
        (
            {{ occurred_at }} < {{ as_of() }} - interval '{{ var("backfill_max_age_days") }} days'
            or not exists (select 1 from {{ this }})
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The customer block of an event payload, from lateral lookups by primary key and index so
    that an incremental build touches only the customers of its new events (`limit 1` keeps
    PostgreSQL from flattening a lookup into a hash join over the whole table). Expects the
    candidate relation aliased `candidate` with `tenant_id` and `customer_id`. -#}
{% macro customer_lookups() -%}
    left join lateral (
        select * from {{ ref('stg_servicetitan__customers') }} as one
        where one.tenant_id = candidate.tenant_id
            and one.customer_id = candidate.customer_id
        limit 1
    ) as customer on true
    left join lateral (
        select contact.phone_e164, contact.do_not_text
        from {{ ref('stg_servicetitan__customer_contacts') }} as contact
        where contact.tenant_id = candidate.tenant_id
            and contact.customer_id = candidate.customer_id
            and contact.is_active
            and contact.phone_e164 is not null
        order by (contact.contact_type = 'MobilePhone') desc, contact.contact_id
        limit 1
    ) as phone on true
    left join lateral (
        select contact.email
        from {{ ref('stg_servicetitan__customer_contacts') }} as contact
        where contact.tenant_id = candidate.tenant_id
            and contact.customer_id = candidate.customer_id
            and contact.is_active
            and contact.email is not null
        order by contact.contact_id
        limit 1
    ) as email on true
{%- endmacro %}

{% macro customer_payload() -%}
    jsonb_build_object(
        'id', candidate.customer_id,
        'name', customer.customer_name,
        'type', customer.customer_type,
        'phone', phone.phone_e164,
        'do_not_text', coalesce(phone.do_not_text, false),
        'email', email.email,
        'do_not_mail', customer.do_not_mail
    )
{%- endmacro %}

{#- The columns every event model ends with, in the order workflow_events unions them. -#}
{% macro event_columns() -%}
    event_id,
    event_type,
    tenant_id,
    occurred_at,
    customer_id,
    job_id,
    estimate_id,
    invoice_id,
    appointment_id,
    payload,
    is_backfill,
    source_modified_at,
    emitted_at
{%- endmacro %}

{#- What a customer still owes on an invoice: SQL function public.invoice_balance_due (a
    migration; the workflow checks and customer tools call it over the raw tables) — the smaller
    of ServiceTitan's balance and the total less the payments applied to it, never negative. An
    invoice is paid when this is 0. -#}
{% macro balance_due(total, st_balance, applied) -%}
    public.invoice_balance_due({{ total }}, {{ st_balance }}, {{ applied }})
{%- endmacro %}

{#- Whether a job is install work: SQL function integrations.is_install_work (a migration; the
    GoHighLevel push calls it too) with the configured ILIKE patterns (vars
    install_job_type_patterns, install_business_unit_patterns). -#}
{% macro is_install_job(job_type_name, business_unit_name) -%}
    integrations.is_install_work(
        {{ job_type_name }},
        {{ business_unit_name }},
        {{ _patterns('install_job_type_patterns') }},
        {{ _patterns('install_business_unit_patterns') }}
    )
{%- endmacro %}

{#- A text[] literal of the patterns in var `name`: a list, or a comma-separated string. -#}
{% macro _patterns(name) -%}
    {%- set value = var(name) -%}
    {%- if value is string -%}
        {%- set value = value.split(',') | map('trim') | reject('equalto', '') | list -%}
    {%- endif -%}
    array[
        {%- for p in value %}'{{ p | replace("'", "''") }}'{{ ',' if not loop.last }}{% endfor -%}
    ]::text[]
{%- endmacro %}

{#- Payments applied to the candidate invoice (`paid.amount_applied`): SQL function
    servicetitan.invoice_amount_applied, which looks them up through the customer's payments (an
    index) rather than by summing every payment in the warehouse. -#}
{% macro invoice_payment_lookup() -%}
    cross join lateral (
        select servicetitan.invoice_amount_applied(
            candidate.tenant_id, candidate.customer_id, candidate.invoice_id
        ) as amount_applied
    ) as paid
{%- endmacro %}
