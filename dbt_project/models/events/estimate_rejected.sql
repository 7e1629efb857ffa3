{#- An estimate was rejected (status Dismissed). ServiceTitan keeps no dismissal time, so the version's modifiedOn is when it happened. -#}
{{ estimate_event('estimate_rejected', 'modified_at', status='Dismissed') }}
