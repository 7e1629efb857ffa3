with

customers as (

    select * from {{ ref('stg_servicetitan__customers') }}

),

contacts as (

    select * from {{ ref('stg_servicetitan__customer_contacts') }}
    where is_active

),

primary_phone as (

    select distinct on (tenant_id, customer_id)
        tenant_id, customer_id, phone_e164, do_not_text
    from contacts
    where phone_e164 is not null
    order by tenant_id, customer_id, (contact_type = 'MobilePhone') desc, contact_id

),

primary_email as (

    select distinct on (tenant_id, customer_id)
        tenant_id, customer_id, email
    from contacts
    where email is not null
    order by tenant_id, customer_id, contact_id

),

jobs as (

    select
        tenant_id,
        customer_id,
        count(*) as job_count,
        count(*) filter (where job_status = 'Completed') as completed_job_count,
        min(created_at) as first_job_at,
        max(created_at) as last_job_at
    from {{ ref('stg_servicetitan__jobs') }}
    group by tenant_id, customer_id

),

invoices as (

    select
        tenant_id,
        customer_id,
        sum(total) as lifetime_invoiced,
        sum(balance_due) as open_balance
    from {{ ref('invoices') }}
    group by tenant_id, customer_id

),

final as (

    select
        customers.tenant_id,
        customers.customer_id,
        customers.customer_name,
        customers.customer_type,
        customers.is_active,
        customers.is_merged,
        customers.merged_to_customer_id,
        primary_phone.phone_e164 as phone,
        coalesce(primary_phone.do_not_text, false) as do_not_text,
        primary_email.email,
        customers.do_not_mail,
        customers.street,
        customers.city,
        customers.state,
        customers.zip,
        coalesce(jobs.job_count, 0) as job_count,
        coalesce(jobs.completed_job_count, 0) as completed_job_count,
        jobs.first_job_at,
        jobs.last_job_at,
        coalesce(invoices.lifetime_invoiced, 0) as lifetime_invoiced,
        coalesce(invoices.open_balance, 0) as open_balance,
        customers.created_at

    from customers
    left join primary_phone using (tenant_id, customer_id)
    left join primary_email using (tenant_id, customer_id)
    left join jobs using (tenant_id, customer_id)
    left join invoices using (tenant_id, customer_id)

)

select * from final
