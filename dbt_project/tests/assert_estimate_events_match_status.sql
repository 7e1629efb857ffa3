{#- estimate_approved is about a Sold estimate and estimate_rejected about a Dismissed one, as
    the estimate was when the event fired. -#}
select event_id, event_type, payload -> 'estimate' ->> 'status' as status
from {{ ref('workflow_events') }}
where (event_type = 'estimate_approved' and payload -> 'estimate' ->> 'status' <> 'Sold')
    or (event_type = 'estimate_rejected' and payload -> 'estimate' ->> 'status' <> 'Dismissed')
