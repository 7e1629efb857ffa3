with

source as (

    select * from {{ source('gohighlevel', 'ghl_opportunities') }}
    where deleted_at is null

),

renamed as (

    select
        location_id,
        id as opportunity_id,
        contact_id,
        name as opportunity_name,
        pipeline_id,
        pipeline_stage_id,
        status as opportunity_status,
        coalesce(nullif(btrim(raw ->> 'source'), ''), 'Unknown') as lead_source,
        cast(coalesce(monetary_value, 0) as numeric(14, 2)) as monetary_value,
        created_at,
        updated_at,
        synced_at

    from source

)

select * from renamed
