-- Per active pricebook material: its cost in ServiceTitan against the best current price of
-- the supplier parts it is mapped to. A material no supplier carries is kept (is_carried =
-- false, no price) so it is reported rather than silently missing.

with

materials as (

    select * from {{ ref('stg_servicetitan__pricebook_materials') }}
    where is_active

),

mapped_offers as (

    select
        m.tenant_id,
        m.material_id,
        m.vendor,
        m.sku,
        m.match_method,
        m.is_exact_match,
        m.match_score,
        p.price,
        p.availability,
        p.last_seen_at,
        row_number() over (
            partition by m.tenant_id, m.material_id
            order by p.price, m.is_exact_match desc, m.vendor
        ) as price_rank,
        count(*) over (partition by m.tenant_id, m.material_id) as vendors_carrying
    from {{ ref('stg_suppliers__material_vendor_map') }} as m
    inner join {{ ref('stg_suppliers__vendor_products') }} as p
        on p.vendor = m.vendor and p.sku = m.sku

),

best as (

    select * from mapped_offers where price_rank = 1

),

final as (

    select
        materials.tenant_id,
        materials.material_id,
        materials.sku_code,
        materials.display_name as material_name,
        materials.cost as pricebook_cost,
        best.price as best_price,
        best.vendor as best_vendor,
        best.sku as best_vendor_sku,
        best.availability as best_availability,
        best.price - materials.cost as difference,
        case
            when materials.cost > 0
                then round((best.price - materials.cost) / materials.cost * 100, 2)
        end as difference_pct,
        best.last_seen_at,
        best.match_method,
        case
            when best.match_method is null then null
            when best.is_exact_match then 'exact'
            else 'fuzzy'
        end as match_quality,
        best.match_score,
        coalesce(best.vendors_carrying, 0) as vendors_carrying,
        best.vendor is not null as is_carried

    from materials
    left join best
        on best.tenant_id = materials.tenant_id and best.material_id = materials.material_id

)

select * from final
