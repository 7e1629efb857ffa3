{#- Lead response per source and week: how many leads, how many heard back, the median, 90th
    percentile and worst minutes to the first response, and how many booked a job. -#}
with

leads as (

    select * from {{ ref('lead_response') }}

),

final as (

    select
        source_system,
        lead_source,
        week,
        count(*) as leads,
        count(response_minutes) as responded_leads,
        cast(percentile_cont(0.5) within group (order by response_minutes) as numeric(12, 1))
            as median_response_minutes,
        cast(percentile_cont(0.9) within group (order by response_minutes) as numeric(12, 1))
            as p90_response_minutes,
        max(response_minutes) as worst_response_minutes,
        count(*) filter (where became_booked_job) as booked_jobs,
        round(count(*) filter (where became_booked_job) / cast(count(*) as numeric), 3)
            as booking_rate
    from leads
    group by 1, 2, 3

)

select * from final
