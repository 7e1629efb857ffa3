with

source as (

    select * from {{ source('callrail', 'callrail_calls') }}

),

renamed as (

    select
        account_id,
        id as call_id,
        company_id,
        direction,
        coalesce(answered, false) as is_answered,
        coalesce(cast(raw ->> 'voicemail' as boolean), false) as is_voicemail,
        not coalesce(answered, false) and direction = 'inbound' as is_missed,
        cast(raw ->> 'first_call' as boolean) as is_first_call,
        customer_name,
        coalesce(customer_phone_e164, {{ normalize_phone('customer_phone_number') }})
            as customer_phone_e164,
        tracking_phone_number,
        business_phone_number,
        coalesce(nullif(btrim(coalesce(raw ->> 'source_name', raw ->> 'source')), ''), 'Unknown')
            as lead_source,
        nullif(btrim(raw ->> 'campaign'), '') as campaign,
        start_time as started_at,
        duration as duration_seconds,
        lead_status,
        st_tenant_id,
        st_customer_id,
        synced_at

    from source

)

select * from renamed
