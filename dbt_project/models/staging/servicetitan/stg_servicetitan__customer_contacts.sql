with

source as (

    select * from {{ source('servicetitan', 'st_customer_contacts') }}
    where deleted_at is null

),

renamed as (

    select
        tenant_id,
        id as contact_id,
        customer_id,
        type as contact_type,
        value as contact_value,
        memo,
        -- Both stored when the row is written (migration 0013's search columns).
        phone_e164,
        email_lower as email,
        coalesce(cast(raw -> 'phoneSettings' ->> 'doNotText' as boolean), false) as do_not_text,
        coalesce(active, false) as is_active,
        created_on as created_at,
        modified_on as modified_at,
        synced_at

    from source

)

select * from renamed
