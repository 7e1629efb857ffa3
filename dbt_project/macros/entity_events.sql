{#- The shared body of the estimate and job event models: each event model names its type,
    which rows qualify and when the event happened; the payload and the once-only rule are the
    same for every event of the entity. -#}

{% macro estimate_event(event_type, occurred_at, status=none) -%}
with

estimates as (

    select * from (
        {{ changed_rows(ref('stg_servicetitan__estimates'), source('servicetitan', 'st_estimates')) }}
    ) as changed
    where is_active{% if status %} and estimate_status = '{{ status }}'{% endif %}

),

candidates as (

    select
        {{ event_id(event_type, 'estimate_id') }} as event_id,
        estimates.*,
        {{ occurred_at }} as occurred_at
    from estimates

),

new_events as (

    select * from candidates
    where {{ not_yet_emitted('candidates.event_id') }}

),

final as (

    select
        candidate.event_id,
        '{{ event_type }}' as event_type,
        candidate.tenant_id,
        candidate.occurred_at,
        candidate.customer_id,
        candidate.job_id,
        candidate.estimate_id,
        cast(null as bigint) as invoice_id,
        cast(null as bigint) as appointment_id,
        jsonb_build_object(
            'customer', {{ customer_payload() }},
            'estimate', jsonb_build_object(
                'id', candidate.estimate_id,
                'name', candidate.estimate_name,
                'status', candidate.estimate_status,
                'subtotal', candidate.subtotal,
                'tax', candidate.tax,
                'total', candidate.total,
                'summary', candidate.summary,
                'job_number', candidate.job_number,
                'business_unit', business_unit.business_unit_name,
                'sold_at', candidate.sold_at,
                'sold_by', technician.technician_name,
                'created_at', candidate.created_at
            ),
            'is_backfill', {{ is_backfill('candidate.occurred_at') }}
        ) as payload,
        {{ is_backfill('candidate.occurred_at') }} as is_backfill,
        candidate.modified_at as source_modified_at,
        now() as emitted_at

    from new_events as candidate
    {{ customer_lookups() }}
    left join {{ ref('stg_servicetitan__business_units') }} as business_unit
        on business_unit.tenant_id = candidate.tenant_id
        and business_unit.business_unit_id = candidate.business_unit_id
    left join {{ ref('stg_servicetitan__technicians') }} as technician
        on technician.tenant_id = candidate.tenant_id
        and technician.technician_id = candidate.sold_by_technician_id

)

select {{ event_columns() }} from final
{%- endmacro %}


{% macro job_event(event_type, occurred_at, status=none, install_only=false) -%}
with

jobs as (

    select * from (
        {{ changed_rows(ref('stg_servicetitan__jobs'), source('servicetitan', 'st_jobs')) }}
    ) as changed
    {%- if status %}
    where job_status = '{{ status }}'
    {%- endif %}

),

candidates as (

    select
        {{ event_id(event_type, 'job_id') }} as event_id,
        jobs.*,
        {{ occurred_at }} as occurred_at
    from jobs

),

new_events as (

    select * from candidates
    where {{ not_yet_emitted('candidates.event_id') }}

),

final as (

    select
        candidate.event_id,
        '{{ event_type }}' as event_type,
        candidate.tenant_id,
        candidate.occurred_at,
        candidate.customer_id,
        candidate.job_id,
        cast(null as bigint) as estimate_id,
        candidate.invoice_id,
        cast(null as bigint) as appointment_id,
        jsonb_build_object(
            'customer', {{ customer_payload() }},
            'job', jsonb_build_object(
                'id', candidate.job_id,
                'number', candidate.job_number,
                'status', candidate.job_status,
                'type', job_type.job_type_name,
                'business_unit', business_unit.business_unit_name,
                'priority', candidate.priority,
                'summary', candidate.summary,
                'campaign', campaign.campaign_name,
                'total', candidate.job_total,
                'invoice_id', candidate.invoice_id,
                'created_at', candidate.created_at,
                'completed_at', candidate.completed_at
            ),
            'location', jsonb_build_object(
                'id', candidate.location_id,
                'street', location.street,
                'city', location.city,
                'state', location.state,
                'zip', location.zip
            ),
            'is_backfill', {{ is_backfill('candidate.occurred_at') }}
        ) as payload,
        {{ is_backfill('candidate.occurred_at') }} as is_backfill,
        candidate.modified_at as source_modified_at,
        now() as emitted_at

    from new_events as candidate
    {{ customer_lookups() }}
    left join {{ ref('stg_servicetitan__job_types') }} as job_type
        on job_type.tenant_id = candidate.tenant_id
        and job_type.job_type_id = candidate.job_type_id
    left join {{ ref('stg_servicetitan__business_units') }} as business_unit
        on business_unit.tenant_id = candidate.tenant_id
        and business_unit.business_unit_id = candidate.business_unit_id
    left join {{ ref('stg_servicetitan__campaigns') }} as campaign
        on campaign.tenant_id = candidate.tenant_id
        and campaign.campaign_id = candidate.campaign_id
    left join lateral (
        select * from {{ ref('stg_servicetitan__locations') }} as one
        where one.tenant_id = candidate.tenant_id
            and one.location_id = candidate.location_id
        limit 1
    ) as location on true
    {%- if install_only %}
    where {{ is_install_job('job_type.job_type_name', 'business_unit.business_unit_name') }}
    {%- endif %}

)

select {{ event_columns() }} from final
{%- endmacro %}
