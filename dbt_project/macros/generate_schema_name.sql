{#- Relations go to the schema their folder configures (`staging`, `marts`, `events`), not to
    `<target schema>_<schema>`: the platform and its SQL tools address them by these names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
