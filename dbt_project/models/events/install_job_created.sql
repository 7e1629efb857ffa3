{#- An install job was booked: its job type or business unit matches the install patterns (vars install_job_type_patterns, install_business_unit_patterns; default: names containing Install). Fires once per job. -#}
{{ job_event('install_job_created', 'created_at', install_only=true) }}
