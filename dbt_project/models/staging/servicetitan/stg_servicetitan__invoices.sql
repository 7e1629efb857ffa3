with

source as (

    select * from {{ source('servicetitan', 'st_invoices') }}
    where deleted_at is null

),

renamed as (

    select
        tenant_id,
        id as invoice_id,
        reference_number,
        customer_id,
        location_id,
        job_id,
        business_unit_id,
        raw ->> 'summary' as summary,
        invoice_date as invoiced_at,
        due_date as due_at,
        cast(sub_total as numeric(14, 2)) as subtotal,
        cast(sales_tax as numeric(14, 2)) as sales_tax,
        cast(total as numeric(14, 2)) as total,
        balance as st_balance,
        paid_on as st_paid_at,
        coalesce(active, false) as is_active,
        created_on as created_at,
        modified_on as modified_at,
        synced_at

    from source

)

select * from renamed
