"""What is owed on an invoice, and an estimate close rate: SQL functions called by dbt and Python.

ServiceTitan's own `balance` on an invoice lags the payments applied to it (the two arrive on
separate export feeds), so an invoice can be paid yet still show a balance. What is owed is
therefore decided from the invoice and the payments together, once, here:

- `servicetitan.payment_applications(raw)`: the invoices one payment was applied to, read from
  its raw `appliedTo` list. dbt's `stg_servicetitan__payment_applications` reads payments
  through it, so the marts and the functions below parse a payment the same way.
- `servicetitan.invoice_amount_applied(tenant, customer, invoice)`: the sum applied to one
  invoice by the customer's live payments, found through the payments' customer index.
- `public.invoice_balance_due(total, st_balance, amount_applied)`: the rule itself — the smaller
  of ServiceTitan's balance and the total less the payments applied (whichever feed synced the
  payment first), never negative; paid when 0. dbt's `balance_due` macro (the `invoices` mart,
  the `invoice_overdue` event) calls it.
- `servicetitan.invoice_balance_due(tenant, customer, invoice, total, st_balance)`: the rule over
  the raw tables, for the readers that act at workflow time without waiting for a dbt build
  (the `invoice_unpaid` workflow check, the customer tools).

ServiceTitan's balance bounds what is owed from above, so the partial index of migration 0007
(`where balance > 0`) still holds every candidate an overdue scan needs.

- `public.estimate_close_rate(sold, dismissed)`: sold over decided (sold + dismissed), of counts
  or of values; null while nothing is decided. An open estimate is undecided, and so is one in
  a status ServiceTitan may add later: only a sale or a dismissal is a decision. dbt's
  `estimate_pipeline` mart and the `estimate_close_rate` tool call it.

Revision ID: 0010_owed_and_close_rate
Revises: 0009_business_rules
"""

from __future__ import annotations

from alembic import op

revision = "0010_owed_and_close_rate"
down_revision = "0009_business_rules"
branch_labels = None
depends_on = None

STATEMENTS = (
    """
    create function servicetitan.payment_applications(raw jsonb)
    returns table (
        invoice_id bigint,
        application_id bigint,
        applied_amount numeric(14, 2),
        applied_at timestamptz
    )
    language sql stable parallel safe as $$
        select
            cast(application ->> 'appliedTo' as bigint),
            cast(application ->> 'appliedId' as bigint),
            cast(application ->> 'appliedAmount' as numeric(14, 2)),
            cast(application ->> 'appliedOn' as timestamptz)
        from jsonb_array_elements(
            case when jsonb_typeof(raw -> 'appliedTo') = 'array'
                then raw -> 'appliedTo' else '[]'::jsonb end
        ) as application
    $$
    """,
    """
    create function servicetitan.invoice_amount_applied(
        tenant bigint, customer bigint, invoice bigint
    ) returns numeric
    language sql stable parallel safe as $$
        select sum(application.applied_amount)
        from servicetitan.st_payments as payment
        cross join lateral servicetitan.payment_applications(payment.raw) as application
        where payment.tenant_id = tenant
            and payment.customer_id = customer
            and payment.deleted_at is null
            and coalesce(payment.active, true)
            and application.invoice_id = invoice
    $$
    """,
    """
    create function public.invoice_balance_due(
        total numeric, st_balance numeric, amount_applied numeric
    ) returns numeric
    language sql immutable parallel safe as $$
        select greatest(0, least(coalesce(st_balance, total), total - coalesce(amount_applied, 0)))
    $$
    """,
    """
    create function servicetitan.invoice_balance_due(
        tenant bigint, customer bigint, invoice bigint, total numeric, st_balance numeric
    ) returns numeric
    language sql stable parallel safe as $$
        select public.invoice_balance_due(
            total, st_balance, servicetitan.invoice_amount_applied(tenant, customer, invoice)
        )
    $$
    """,
    """
    create function public.estimate_close_rate(sold numeric, dismissed numeric) returns numeric
    language sql immutable parallel safe as $$
        select coalesce(sold, 0) / nullif(coalesce(sold, 0) + coalesce(dismissed, 0), 0)
    $$
    """,
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("drop function if exists public.estimate_close_rate(numeric, numeric)")
    op.execute(
        "drop function if exists servicetitan.invoice_balance_due(bigint, bigint, bigint, numeric,"
        " numeric)"
    )
    op.execute("drop function if exists public.invoice_balance_due(numeric, numeric, numeric)")
    op.execute(
        "drop function if exists servicetitan.invoice_amount_applied(bigint, bigint, bigint)"
    )
    op.execute("drop function if exists servicetitan.payment_applications(jsonb)")
