with

estimates as (

    select * from {{ ref('stg_servicetitan__estimates') }}

),

items as (

    select
        tenant_id,
        estimate_id,
        count(*) as item_count,
        sum(total_cost) as total_cost
    from {{ ref('stg_servicetitan__estimate_items') }}
    group by tenant_id, estimate_id

),

business_units as (

    select * from {{ ref('stg_servicetitan__business_units') }}

),

technicians as (

    select * from {{ ref('stg_servicetitan__technicians') }}

),

customers as (

    select * from {{ ref('stg_servicetitan__customers') }}

),

final as (

    select
        estimates.tenant_id,
        estimates.estimate_id,
        estimates.estimate_name,
        estimates.estimate_status,
        estimates.customer_id,
        customers.customer_name,
        estimates.job_id,
        estimates.job_number,
        estimates.business_unit_id,
        business_units.business_unit_name,
        estimates.subtotal,
        estimates.tax,
        estimates.total,
        coalesce(items.item_count, 0) as item_count,
        items.total_cost,
        estimates.sold_at,
        estimates.sold_by_technician_id,
        technicians.technician_name as sold_by_technician_name,
        estimates.created_at,
        estimates.modified_at,
        case when estimates.estimate_status = 'Sold'
            then extract(epoch from estimates.sold_at - estimates.created_at) / 86400.0
        end as days_to_sell

    from estimates
    left join items using (tenant_id, estimate_id)
    left join business_units using (tenant_id, business_unit_id)
    left join technicians
        on technicians.tenant_id = estimates.tenant_id
        and technicians.technician_id = estimates.sold_by_technician_id
    left join customers
        on customers.tenant_id = estimates.tenant_id
        and customers.customer_id = estimates.customer_id
    where estimates.is_active

)

select * from final
