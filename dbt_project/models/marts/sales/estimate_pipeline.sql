{#- Close rate: SQL function public.estimate_close_rate (a migration; the estimate_close_rate
    tool calls it too), sold over decided (sold + dismissed). -#}
with

estimates as (

    select * from {{ ref('estimates') }}

),

final as (

    select
        tenant_id,
        coalesce(business_unit_name, 'Unassigned') as business_unit_name,
        cast(date_trunc('month', created_at) as date) as created_month,
        count(*) as estimates_created,
        count(*) filter (where estimate_status = 'Open') as estimates_open,
        count(*) filter (where estimate_status = 'Sold') as estimates_sold,
        count(*) filter (where estimate_status = 'Dismissed') as estimates_dismissed,
        coalesce(sum(total) filter (where estimate_status = 'Open'), 0) as open_value,
        coalesce(sum(total) filter (where estimate_status = 'Sold'), 0) as sold_value,
        round(
            public.estimate_close_rate(
                count(*) filter (where estimate_status = 'Sold'),
                count(*) filter (where estimate_status = 'Dismissed')
            ),
            4
        ) as close_rate,
        round(avg(days_to_sell)::numeric, 1) as avg_days_to_sell

    from estimates
    group by 1, 2, 3

)

select * from final
