{#- A job was completed. Fires once per job. -#}
{{ job_event('job_completed', 'coalesce(completed_at, modified_at)', status='Completed') }}
