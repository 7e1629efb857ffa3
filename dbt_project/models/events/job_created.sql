{#- A job was booked. Fires once per job. -#}
{{ job_event('job_created', 'created_at') }}
