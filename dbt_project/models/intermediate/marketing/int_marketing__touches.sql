{#- Every inbound touch of a would-be customer: inbound CallRail calls (answered or missed) and
    GoHighLevel contacts created (a web form when GHL's source says so). One person is one
    `lead_key`: the phone in E.164, else the lower-cased email. The ServiceTitan customer is
    the one CallRail linked the call to, else the owner of the phone, else of the email. -#}
with

calls as (

    select
        'callrail' as source_system,
        lead_source,
        campaign,
        'call' as touch_type,
        call_id as touch_id,
        customer_phone_e164 as phone_e164,
        cast(null as text) as email,
        started_at as touched_at,
        is_answered,
        is_missed,
        st_tenant_id as linked_tenant_id,
        st_customer_id as linked_customer_id
    from {{ ref('stg_callrail__calls') }}
    where direction = 'inbound' and customer_phone_e164 is not null

),

ghl_contacts as (

    select
        'gohighlevel' as source_system,
        lead_source,
        cast(null as text) as campaign,
        case
            when lead_source ilike any (array['%form%', '%website%', '%survey%']) then 'form'
            else 'ghl_contact'
        end as touch_type,
        contact_id as touch_id,
        phone_e164,
        email,
        created_at as touched_at,
        false as is_answered,
        false as is_missed,
        cast(null as bigint) as linked_tenant_id,
        cast(null as bigint) as linked_customer_id
    from {{ ref('stg_gohighlevel__contacts') }}
    where created_at is not null and (phone_e164 is not null or email is not null)

),

touches as (

    select * from calls
    union all
    select * from ghl_contacts

),

contacts as (

    select tenant_id, customer_id, phone_e164, email
    from {{ ref('stg_servicetitan__customer_contacts') }}
    where is_active

),

phone_owners as (

    select distinct on (phone_e164) phone_e164, tenant_id, customer_id
    from contacts
    where phone_e164 is not null
    order by phone_e164, customer_id

),

email_owners as (

    select distinct on (email) email, tenant_id, customer_id
    from contacts
    where email is not null
    order by email, customer_id

),

final as (

    select
        coalesce(touches.phone_e164, touches.email) as lead_key,
        touches.source_system,
        touches.lead_source,
        touches.campaign,
        touches.touch_type,
        touches.touch_id,
        touches.phone_e164,
        touches.email,
        touches.touched_at,
        touches.is_answered,
        touches.is_missed,
        coalesce(touches.linked_tenant_id, phone_owners.tenant_id, email_owners.tenant_id)
            as tenant_id,
        case
            when touches.linked_customer_id is not null then touches.linked_customer_id
            when phone_owners.customer_id is not null then phone_owners.customer_id
            else email_owners.customer_id
        end as customer_id
    from touches
    left join phone_owners on phone_owners.phone_e164 = touches.phone_e164
    left join email_owners on email_owners.email = touches.email

)

select * from final
