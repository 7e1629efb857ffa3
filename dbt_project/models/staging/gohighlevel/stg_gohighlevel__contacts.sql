with

source as (

    select * from {{ source('gohighlevel', 'ghl_contacts') }}
    where deleted_at is null

),

renamed as (

    select
        location_id,
        id as contact_id,
        first_name,
        last_name,
        nullif(btrim(concat_ws(' ', first_name, last_name)), '') as contact_name,
        case when email like '%@%' then lower(btrim(email)) end as email,
        coalesce(phone_e164, {{ normalize_phone('phone') }}) as phone_e164,
        type as contact_type,
        tags,
        coalesce(nullif(btrim(source), ''), 'Unknown') as lead_source,
        coalesce(cast(raw ->> 'dnd' as boolean), false) as do_not_disturb,
        date_added as created_at,
        date_updated as updated_at,
        synced_at

    from source

)

select * from renamed
