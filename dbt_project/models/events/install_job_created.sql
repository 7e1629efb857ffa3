{#- An install job was booked: its job type or business unit matches the install patterns
    (vars install_job_type_patterns, install_business_unit_patterns, which the platform sets
    from its settings INSTALL_JOB_TYPES and INSTALL_BUSINESS_UNITS). Fires once per job. -#}
{{ job_event('install_job_created', 'created_at', install_only=true) }}
