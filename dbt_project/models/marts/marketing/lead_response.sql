{#- How fast a new lead hears back: per lead, the first inbound touch, the first outbound
    response after it (an outbound call to the number, an SMS or email the outbox sent to the
    lead's phone or email), the minutes between, and whether the lead booked a job after it. -#}
with

touches as (

    select * from {{ ref('int_marketing__touches') }}

),

first_touches as (

    select distinct on (lead_key) *
    from touches
    order by lead_key, touched_at, touch_id

),

lead_customers as (

    select distinct on (lead_key) lead_key, tenant_id, customer_id
    from touches
    where customer_id is not null
    order by lead_key, touched_at

),

responses as (

    select
        'call_back' as response_type,
        customer_phone_e164 as address,
        started_at as responded_at
    from {{ ref('stg_callrail__calls') }}
    where direction = 'outbound' and customer_phone_e164 is not null

    union all

    select
        channel as response_type,
        case when channel = 'email' then lower(to_address) else to_address end as address,
        sent_at as responded_at
    from {{ source('automation', 'outbox') }}
    where sent_at is not null and status in ('sent', 'delivered', 'undelivered', 'unknown')

),

final as (

    select
        lead.lead_key,
        customer.tenant_id,
        customer.customer_id,
        lead.source_system,
        lead.lead_source,
        lead.campaign,
        lead.touch_type as first_touch_type,
        lead.touched_at as first_touch_at,
        cast(date_trunc('week', lead.touched_at) as date) as week,
        response.response_type as first_response_type,
        response.responded_at as first_response_at,
        round(
            cast(extract(epoch from response.responded_at - lead.touched_at) / 60 as numeric), 1
        ) as response_minutes,
        job.job_id as booked_job_id,
        job.job_id is not null as became_booked_job
    from first_touches as lead
    left join lead_customers as customer on customer.lead_key = lead.lead_key
    left join lateral (
        select * from responses
        where responses.address in (lead.phone_e164, lead.email)
            and responses.responded_at >= lead.touched_at
        order by responses.responded_at
        limit 1
    ) as response on true
    left join lateral (
        select jobs.job_id from {{ ref('stg_servicetitan__jobs') }} as jobs
        where jobs.tenant_id = customer.tenant_id
            and jobs.customer_id = customer.customer_id
            and jobs.created_at >= lead.touched_at
        order by jobs.created_at
        limit 1
    ) as job on true

)

select * from final
