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
        case
            when type in ('Phone', 'MobilePhone', 'Fax')
                then {{ normalize_phone("coalesce(raw -> 'phoneSettings' ->> 'phoneNumber', value)") }}
        end as phone_e164,
        case
            when type = 'Email' and value like '%@%' then lower(btrim(value))
        end as email,
        coalesce(cast(raw -> 'phoneSettings' ->> 'doNotText' as boolean), false) as do_not_text,
        coalesce(active, false) as is_active,
        created_on as created_at,
        modified_on as modified_at,
        synced_at

    from source

)

select * from renamed
