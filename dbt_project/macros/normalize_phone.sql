{#- A phone number as office staff type it ("(602) 555-0100 ext 12", "602.555.0100",
    "+1 602 555 0100") in E.164 ("+16025550100"), or null when it is not a usable number.
    North American numbers are assumed when no country code is written. -#}
{% macro phone_digits(expr) -%}
    regexp_replace(
        regexp_replace({{ expr }}, '\s*(ext\.?|extension|x|#)\s*\d+\s*$', '', 'i'),
        '[^0-9]', '', 'g'
    )
{%- endmacro %}

{% macro normalize_phone(expr) -%}
    case
        when {{ phone_digits(expr) }} ~ '^[2-9][0-9]{2}[2-9][0-9]{6}$'
            then '+1' || {{ phone_digits(expr) }}
        when {{ phone_digits(expr) }} ~ '^1[2-9][0-9]{2}[2-9][0-9]{6}$'
            then '+' || {{ phone_digits(expr) }}
        when btrim({{ expr }}) like '+%' and {{ phone_digits(expr) }} ~ '^[1-9][0-9]{7,14}$'
            then '+' || {{ phone_digits(expr) }}
    end
{%- endmacro %}
