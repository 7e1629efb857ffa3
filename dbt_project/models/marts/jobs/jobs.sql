with

jobs as (

    select * from {{ ref('stg_servicetitan__jobs') }}

),

job_types as (

    select * from {{ ref('stg_servicetitan__job_types') }}

),

business_units as (

    select * from {{ ref('stg_servicetitan__business_units') }}

),

campaigns as (

    select * from {{ ref('stg_servicetitan__campaigns') }}

),

customers as (

    select * from {{ ref('stg_servicetitan__customers') }}

),

final as (

    select
        jobs.tenant_id,
        jobs.job_id,
        jobs.job_number,
        jobs.job_status,
        jobs.customer_id,
        customers.customer_name,
        jobs.location_id,
        jobs.job_type_id,
        job_types.job_type_name,
        jobs.business_unit_id,
        business_units.business_unit_name,
        jobs.campaign_id,
        campaigns.campaign_name,
        campaigns.category_name as campaign_category,
        jobs.priority,
        jobs.summary,
        jobs.invoice_id,
        jobs.job_total,
        {{ is_install_job('job_types.job_type_name', 'business_units.business_unit_name') }}
            as is_install,
        jobs.created_at,
        jobs.completed_at,
        extract(epoch from jobs.completed_at - jobs.created_at) / 3600.0 as hours_to_complete

    from jobs
    left join job_types using (tenant_id, job_type_id)
    left join business_units using (tenant_id, business_unit_id)
    left join campaigns using (tenant_id, campaign_id)
    left join customers using (tenant_id, customer_id)

)

select * from final
