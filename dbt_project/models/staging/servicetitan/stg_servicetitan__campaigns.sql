with

source as (

    select * from {{ source('servicetitan', 'st_campaigns') }}
    where deleted_at is null

),

renamed as (

    select
        tenant_id,
        id as campaign_id,
        name as campaign_name,
        category_id,
        category_name,
        source as campaign_source,
        medium as campaign_medium,
        coalesce(active, false) as is_active,
        created_on as created_at,
        modified_on as modified_at,
        synced_at

    from source

)

select * from renamed
