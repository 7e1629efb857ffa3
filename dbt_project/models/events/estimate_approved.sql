{#- The customer approved an estimate (status Sold). Fires once, even if it is edited later. -#}
{{ estimate_event('estimate_approved', 'coalesce(sold_at, modified_at)', status='Sold') }}
