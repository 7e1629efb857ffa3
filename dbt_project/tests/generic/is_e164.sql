{#- The column holds phone numbers in E.164 (+ and 8 to 15 digits, no leading zero). -#}
{% test is_e164(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
    and {{ column_name }} !~ '^\+[1-9][0-9]{7,14}$'
{% endtest %}
