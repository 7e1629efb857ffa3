{#- Every event of every event model reached the unified relation the workflow sensor reads. -#}
{%- set event_models = event_types() %}
with

all_events as (
    {% for name in event_models %}
    select event_id, event_type from {{ ref(name) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select all_events.*
from all_events
left join {{ ref('workflow_events') }} as unified using (event_id)
where unified.event_id is null
