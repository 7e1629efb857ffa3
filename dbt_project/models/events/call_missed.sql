{#- An inbound CallRail call nobody answered (missed, or sent to voicemail), from a first-time
    or a known caller. Fires once per call. The caller's number is the one to text back; the
    customer is the ServiceTitan customer CallRail linked the number to, when there is one.
    Calls are read by `synced_at` (CallRail has no modification time): an incremental build
    looks at calls stored since event_lookback_hours before the newest call it emitted. A call
    from a number that matches no customer belongs to the tenant CallRail is configured for
    (var callrail_tenant_id, else the one tenant of the warehouse). -#}
{%- set configured_tenant = var('callrail_tenant_id') | string | trim %}

with

calls as (

    select * from {{ ref('stg_callrail__calls') }}
    where direction = 'inbound'
        and is_missed
        and customer_phone_e164 is not null
    {%- if is_incremental() %}
        and synced_at > coalesce(
            (select max(source_modified_at) from {{ this }}), '-infinity'::timestamptz
        ) - interval '{{ var("event_lookback_hours") }} hours'
    {%- endif %}

),

candidates as (

    select
        md5('call_missed:' || calls.account_id || ':' || calls.call_id) as event_id,
        coalesce(
            calls.st_tenant_id,
            {% if configured_tenant %}cast({{ configured_tenant | int }} as bigint),{% endif %}
            (select min(tenant_id) from {{ ref('stg_servicetitan__customers') }})
        ) as tenant_id,
        calls.*
    from calls

),

new_events as (

    select * from candidates
    where tenant_id is not null and {{ not_yet_emitted('candidates.event_id') }}

),

final as (

    select
        candidate.event_id,
        'call_missed' as event_type,
        candidate.tenant_id,
        candidate.started_at as occurred_at,
        candidate.st_customer_id as customer_id,
        cast(null as bigint) as job_id,
        cast(null as bigint) as estimate_id,
        cast(null as bigint) as invoice_id,
        cast(null as bigint) as appointment_id,
        jsonb_build_object(
            'customer', jsonb_build_object(
                'id', candidate.st_customer_id,
                'name', coalesce(customer.customer_name, initcap(candidate.customer_name)),
                'phone', candidate.customer_phone_e164,
                'do_not_text', coalesce(contact.do_not_text, false),
                'email', null,
                'do_not_mail', customer.do_not_mail
            ),
            'call', jsonb_build_object(
                'id', candidate.call_id,
                'started_at', candidate.started_at,
                'voicemail', candidate.is_voicemail,
                'first_call', candidate.is_first_call,
                'known_caller', candidate.st_customer_id is not null,
                'source', candidate.lead_source,
                'tracking_number', candidate.tracking_phone_number,
                'business_number', candidate.business_phone_number
            ),
            'is_backfill', {{ is_backfill('candidate.started_at') }}
        ) as payload,
        {{ is_backfill('candidate.started_at') }} as is_backfill,
        candidate.synced_at as source_modified_at,
        now() as emitted_at

    from new_events as candidate
    left join lateral (
        select * from {{ ref('stg_servicetitan__customers') }} as one
        where one.tenant_id = candidate.tenant_id
            and one.customer_id = candidate.st_customer_id
        limit 1
    ) as customer on true
    left join lateral (
        select bool_or(one.do_not_text) as do_not_text
        from {{ ref('stg_servicetitan__customer_contacts') }} as one
        where one.tenant_id = candidate.tenant_id
            and one.phone_e164 = candidate.customer_phone_e164
            and one.is_active
    ) as contact on true

)

select {{ event_columns() }} from final
