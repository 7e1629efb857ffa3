with

source as (

    select * from {{ source('servicetitan_pricebook', 'categories') }}
    where deleted_at is null

),

renamed as (

    select
        tenant_id,
        id as category_id,
        name as category_name,
        description,
        parent_id as parent_category_id,
        position,
        category_type,
        coalesce(active, false) as is_active,
        created_on as created_at,
        modified_on as modified_at,
        synced_at

    from source

)

select * from renamed
