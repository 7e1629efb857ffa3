{#- Which lead sources bring sold work, per source and month, shown twice: by first touch (the
    customer's earliest inbound touch before the estimate) and by last touch (the latest before
    it). Counts of leads and calls belong to the touches' own month and source; customers,
    estimates and sales to the source the attribution credits. ServiceTitan campaigns credit
    the estimates of the jobs booked under them, the same way in both views. -#}
with

touches as (

    select * from {{ ref('int_marketing__touches') }}

),

estimates as (

    select
        tenant_id, estimate_id, customer_id, job_id, created_at,
        estimate_status = 'Sold' as is_sold,
        case when estimate_status = 'Sold' then total else 0 end as sold_revenue
    from {{ ref('stg_servicetitan__estimates') }}
    where is_active

),

customer_touches as (

    select * from touches where customer_id is not null

),

attributions as (

    select 'first_touch' as attribution
    union all
    select 'last_touch'

),

touch_metrics as (

    select
        attributions.attribution,
        touches.source_system,
        touches.lead_source,
        coalesce(touches.campaign, '') as campaign,
        cast(date_trunc('month', touches.touched_at) as date) as month,
        count(distinct touches.lead_key) as leads,
        count(*) filter (where touches.touch_type = 'call' and touches.is_answered)
            as calls_answered,
        count(*) filter (where touches.is_missed) as calls_missed
    from touches
    cross join attributions
    group by 1, 2, 3, 4, 5

),

credited_customers as (

    select distinct on (attributions.attribution, tenant_id, customer_id)
        attributions.attribution,
        customer_touches.tenant_id,
        customer_touches.customer_id,
        customer_touches.source_system,
        customer_touches.lead_source,
        coalesce(customer_touches.campaign, '') as campaign,
        cast(date_trunc('month', customer_touches.touched_at) as date) as month
    from customer_touches
    cross join attributions
    order by
        attributions.attribution, tenant_id, customer_id,
        case when attributions.attribution = 'first_touch'
            then extract(epoch from customer_touches.touched_at)
            else -extract(epoch from customer_touches.touched_at) end

),

credited_estimates as (

    select
        attributions.attribution,
        credit.source_system,
        credit.lead_source,
        coalesce(credit.campaign, '') as campaign,
        cast(date_trunc('month', credit.touched_at) as date) as month,
        estimates.*
    from estimates
    cross join attributions
    join lateral (
        select * from customer_touches as one
        where one.tenant_id = estimates.tenant_id
            and one.customer_id = estimates.customer_id
            and one.touched_at <= estimates.created_at
        order by
            case when attributions.attribution = 'first_touch'
                then extract(epoch from one.touched_at)
                else -extract(epoch from one.touched_at) end
        limit 1
    ) as credit on true

),

campaign_jobs as (

    select
        jobs.tenant_id, jobs.job_id, jobs.customer_id, jobs.created_at,
        campaigns.campaign_name,
        coalesce(campaigns.campaign_source, campaigns.category_name, '') as campaign_category
    from {{ ref('stg_servicetitan__jobs') }} as jobs
    join {{ ref('stg_servicetitan__campaigns') }} as campaigns
        on campaigns.tenant_id = jobs.tenant_id and campaigns.campaign_id = jobs.campaign_id

),

campaign_credits as (

    select
        attributions.attribution,
        'servicetitan' as source_system,
        campaign_jobs.campaign_name as lead_source,
        campaign_jobs.campaign_category as campaign,
        cast(date_trunc('month', campaign_jobs.created_at) as date) as month,
        count(distinct campaign_jobs.customer_id) as leads,
        count(distinct campaign_jobs.customer_id) as customers_matched,
        count(estimates.estimate_id) as estimates,
        count(estimates.estimate_id) filter (where estimates.is_sold) as estimates_sold,
        coalesce(sum(estimates.sold_revenue), 0) as sold_revenue
    from campaign_jobs
    cross join attributions
    left join estimates
        on estimates.tenant_id = campaign_jobs.tenant_id
        and estimates.job_id = campaign_jobs.job_id
    group by 1, 2, 3, 4, 5

),

customer_metrics as (

    select attribution, source_system, lead_source, campaign, month,
        count(*) as customers_matched
    from credited_customers
    group by 1, 2, 3, 4, 5

),

estimate_metrics as (

    select attribution, source_system, lead_source, campaign, month,
        count(*) as estimates,
        count(*) filter (where is_sold) as estimates_sold,
        coalesce(sum(sold_revenue), 0) as sold_revenue
    from credited_estimates
    group by 1, 2, 3, 4, 5

),

lead_sources as (

    select
        coalesce(t.attribution, c.attribution, e.attribution) as attribution,
        coalesce(t.source_system, c.source_system, e.source_system) as source_system,
        coalesce(t.lead_source, c.lead_source, e.lead_source) as lead_source,
        coalesce(t.campaign, c.campaign, e.campaign) as campaign,
        coalesce(t.month, c.month, e.month) as month,
        coalesce(t.leads, 0) as leads,
        coalesce(t.calls_answered, 0) as calls_answered,
        coalesce(t.calls_missed, 0) as calls_missed,
        coalesce(c.customers_matched, 0) as customers_matched,
        coalesce(e.estimates, 0) as estimates,
        coalesce(e.estimates_sold, 0) as estimates_sold,
        coalesce(e.sold_revenue, 0) as sold_revenue
    from touch_metrics as t
    full join customer_metrics as c
        using (attribution, source_system, lead_source, campaign, month)
    full join estimate_metrics as e
        using (attribution, source_system, lead_source, campaign, month)

),

combined as (

    select * from lead_sources
    union all
    select
        attribution, source_system, lead_source, campaign, month, leads,
        0 as calls_answered, 0 as calls_missed, customers_matched, estimates, estimates_sold,
        sold_revenue
    from campaign_credits

),

spend as (

    select source_system, lead_source, cast(date_trunc('month', month) as date) as month,
        sum(amount) as marketing_cost
    from {{ source('marketing', 'marketing_spend') }}
    group by 1, 2, 3

),

final as (

    select
        combined.attribution,
        combined.source_system,
        combined.lead_source,
        nullif(combined.campaign, '') as campaign,
        combined.month,
        combined.leads,
        combined.calls_answered,
        combined.calls_missed,
        combined.customers_matched,
        combined.estimates,
        combined.estimates_sold,
        cast(combined.sold_revenue as numeric(14, 2)) as sold_revenue,
        cast(spend.marketing_cost as numeric(14, 2)) as marketing_cost,
        cast(spend.marketing_cost / nullif(combined.estimates_sold, 0) as numeric(14, 2))
            as cost_per_sold_job
    from combined
    left join spend
        on spend.source_system = combined.source_system
        and spend.lead_source = combined.lead_source
        and spend.month = combined.month

)

select * from final
