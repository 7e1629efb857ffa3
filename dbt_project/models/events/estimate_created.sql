{#- An estimate was written (fires once per estimate, whatever its status). -#}
{{ estimate_event('estimate_created', 'created_at') }}
