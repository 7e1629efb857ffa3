{#- Accounts receivable ageing. Days past due and the bucket of an age are SQL functions
    (public.days_past_due, public.ar_aging_bucket; migration 0008) that the ar_aging tool calls
    too, so the rule is written once. This list names each bucket's column in marts.ar_aging,
    in order; test assert_ar_aging_holds_every_owed_invoice fails if a bucket is missing. -#}
{% macro ar_aging_buckets() -%}
    {{ return([
        {'bucket': 'current', 'column': 'current_due'},
        {'bucket': '1-30', 'column': 'past_due_1_30'},
        {'bucket': '31-60', 'column': 'past_due_31_60'},
        {'bucket': '61-90', 'column': 'past_due_61_90'},
        {'bucket': 'over 90', 'column': 'past_due_over_90'},
    ]) }}
{%- endmacro %}
