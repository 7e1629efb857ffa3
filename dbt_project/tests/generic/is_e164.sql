{#- The column holds phone numbers in E.164: each is what the warehouse's phone rule
    (`integrations.e164`) makes of it. -#}
{% test is_e164(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
    and {{ column_name }} is distinct from integrations.e164({{ column_name }})
{% endtest %}
