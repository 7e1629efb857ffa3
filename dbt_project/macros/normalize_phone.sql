{#- A phone number as office staff type it ("(602) 555-0100 ext 12", "602.555.0100",
    "+1 602 555 0100") in E.164 ("+16025550100"), or null when it is not a number we accept.
    The rule is the warehouse's one phone rule, the SQL function `integrations.e164` (created by
    the migrations, the same rule as perfect_catch/phones.py): called, never re-written here. -#}
{% macro normalize_phone(expr) -%}
    integrations.e164({{ expr }})
{%- endmacro %}
