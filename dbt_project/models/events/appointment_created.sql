{#- An appointment was booked (not cancelled). Fires once per appointment. -#}
with

appointments as (

    select * from (
        {{ changed_rows(ref('stg_servicetitan__appointments'), source('servicetitan', 'st_appointments')) }}
    ) as changed
    where is_active

),

candidates as (

    select
        {{ event_id('appointment_created', 'appointment_id') }} as event_id,
        appointments.*,
        created_at as occurred_at
    from appointments

),

new_events as (

    select * from candidates
    where {{ not_yet_emitted('candidates.event_id') }}

),

final as (

    select
        candidate.event_id,
        'appointment_created' as event_type,
        candidate.tenant_id,
        candidate.occurred_at,
        candidate.customer_id,
        candidate.job_id,
        cast(null as bigint) as estimate_id,
        cast(null as bigint) as invoice_id,
        candidate.appointment_id,
        jsonb_build_object(
            'customer', {{ customer_payload() }},
            'appointment', jsonb_build_object(
                'id', candidate.appointment_id,
                'number', candidate.appointment_number,
                'status', candidate.appointment_status,
                'start', candidate.starts_at,
                'end', candidate.ends_at,
                'arrival_window_start', candidate.arrival_window_starts_at,
                'arrival_window_end', candidate.arrival_window_ends_at,
                'special_instructions', candidate.special_instructions,
                'technician', technicians.names ->> 0,
                'technicians', coalesce(technicians.names, '[]'::jsonb)
            ),
            'job', jsonb_build_object(
                'id', candidate.job_id,
                'number', job.job_number,
                'type', job_type.job_type_name
            ),
            'is_backfill', {{ is_backfill('candidate.occurred_at') }}
        ) as payload,
        {{ is_backfill('candidate.occurred_at') }} as is_backfill,
        candidate.modified_at as source_modified_at,
        now() as emitted_at

    from new_events as candidate
    {{ customer_lookups() }}
    left join lateral (
        select jsonb_agg(assignment.technician_name order by assignment.assignment_id) as names
        from {{ ref('stg_servicetitan__appointment_assignments') }} as assignment
        where assignment.tenant_id = candidate.tenant_id
            and assignment.appointment_id = candidate.appointment_id
            and assignment.is_active
    ) as technicians on true
    left join lateral (
        select * from {{ ref('stg_servicetitan__jobs') }} as one
        where one.tenant_id = candidate.tenant_id
            and one.job_id = candidate.job_id
        limit 1
    ) as job on true
    left join {{ ref('stg_servicetitan__job_types') }} as job_type
        on job_type.tenant_id = candidate.tenant_id
        and job_type.job_type_id = job.job_type_id

)

select {{ event_columns() }} from final
