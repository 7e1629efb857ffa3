{#- An estimate was rejected (status Dismissed). ServiceTitan keeps no dismissal time, so the version's modifiedOn is when it happened. -#}
with

estimates as (

    select * from (
        {{ changed_rows(ref('stg_servicetitan__estimates'), source('servicetitan', 'st_estimates')) }}
    ) as changed
    where is_active and estimate_status = 'Dismissed'

),

candidates as (

    select
        {{ event_id('estimate_rejected', 'estimate_id') }} as event_id,
        estimates.*,
        modified_at as occurred_at
    from estimates

),

new_events as (

    select * from candidates
    where {{ not_yet_emitted('candidates.event_id') }}

),

final as (

    select
        candidate.event_id,
        'estimate_rejected' as event_type,
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
