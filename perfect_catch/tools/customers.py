"""Customers: find them however they are described, see their history, value and who needs a
call. Everything here reads the warehouse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from perfect_catch.tools import lookup
from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.registry import tool
from perfect_catch.warehouse.st_statuses import AppointmentStatus, EstimateStatus, JobStatus


class LookupCustomerInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: int | None = Field(None, description="ServiceTitan customer id.")
    name: str | None = Field(
        None, description="Name or part of it ('lewis', 'Paul Lewis'); misspelled is fine."
    )
    phone: str | None = Field(
        None, description="Phone in any format ('+1 (480) 555-2894'), or its last 7+ digits."
    )
    email: str | None = Field(None, description="Email address (exact, case-insensitive).")
    address: str | None = Field(
        None, description="Street, city or zip words, or part of them ('Pinnacle Peak')."
    )
    limit: int = Field(5, ge=1, le=20, description="Customers to return at most.")
    tenant_id: int | None = None

    @model_validator(mode="after")
    def _something_given(self) -> LookupCustomerInput:
        if not any((self.customer_id, self.name, self.phone, self.email, self.address)):
            raise ValueError("give customer_id, name, phone, email or address")
        return self


def _by_customer(found: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = {}
    for row in found:
        grouped.setdefault(row.pop("customer_id"), []).append(row)
    return grouped


def customer_summaries(
    conn: sa.Connection, tenant_id: int, customers: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each customer with contacts, locations, five most recent jobs, estimates and invoices,
    and open balance: one query per kind for all of them (a lookup returns up to 20), not one
    per customer."""
    ids = [customer["id"] for customer in customers]
    if not ids:
        return []
    params = {"t": tenant_id, "ids": ids}
    contacts = _by_customer(
        lookup.rows(
            conn,
            """select customer_id, type, value, memo from servicetitan.st_customer_contacts
               where tenant_id = :t and customer_id = any(:ids) and deleted_at is null
                 and coalesce(active, true) order by customer_id, id""",
            **params,
        )
    )
    locations = _by_customer(
        lookup.rows(
            conn,
            """select customer_id, id, name, concat_ws(', ', street, city, state, zip) as address
               from servicetitan.st_locations
               where tenant_id = :t and customer_id = any(:ids) and deleted_at is null
                 and coalesce(active, true) and merged_to_id is null
               order by customer_id, id""",
            **params,
        )
    )
    jobs = _by_customer(
        lookup.rows(
            conn,
            """select x.customer_id, j.* from unnest(cast(:ids as bigint[])) x(customer_id)
               cross join lateral (
                 select j.id, j.job_number, j.job_status, jt.name as job_type,
                        j.raw ->> 'summary' as summary, j.total, j.created_on, j.completed_on
                 from servicetitan.st_jobs j
                 left join servicetitan.st_job_types jt
                   on jt.tenant_id = j.tenant_id and jt.id = j.job_type_id
                 where j.tenant_id = :t and j.customer_id = x.customer_id
                   and j.deleted_at is null
                 order by j.created_on desc nulls last limit 5) j""",
            **params,
        )
    )
    estimates = _by_customer(
        lookup.rows(
            conn,
            """select x.customer_id, e.* from unnest(cast(:ids as bigint[])) x(customer_id)
               cross join lateral (
                 select id, name, status, subtotal, job_id, created_on, sold_on
                 from servicetitan.st_estimates
                 where tenant_id = :t and customer_id = x.customer_id and deleted_at is null
                 order by created_on desc nulls last limit 5) e""",
            **params,
        )
    )
    invoices = _by_customer(
        lookup.rows(
            conn,
            """select x.customer_id, i.* from unnest(cast(:ids as bigint[])) x(customer_id)
               cross join lateral (
                 select id, reference_number, job_id, total,
                        servicetitan.invoice_balance_due(
                          tenant_id, customer_id, id, total, balance) as balance,
                        invoice_date, due_date, paid_on
                 from servicetitan.st_invoices
                 where tenant_id = :t and customer_id = x.customer_id and deleted_at is null
                 order by invoice_date desc nulls last limit 5) i""",
            **params,
        )
    )
    balances = {
        row["customer_id"]: row
        for row in lookup.rows(
            conn,
            """select customer_id, coalesce(sum(due), 0) as open_balance,
                      count(*) as open_invoices
               from (select customer_id, servicetitan.invoice_balance_due(
                               tenant_id, customer_id, id, total, balance) as due
                     from servicetitan.st_invoices
                     where tenant_id = :t and customer_id = any(:ids)
                       and deleted_at is null) i
               where due > 0 group by customer_id""",
            **params,
        )
    }
    summaries = []
    for customer in customers:
        cid = customer["id"]
        owed = balances.get(cid, {"open_balance": Decimal(0), "open_invoices": 0})
        summaries.append(
            {
                **customer,
                "contacts": contacts.get(cid, []),
                "locations": locations.get(cid, []),
                "recent_jobs": jobs.get(cid, []),
                "recent_estimates": estimates.get(cid, []),
                "recent_invoices": invoices.get(cid, []),
                "open_balance": owed["open_balance"],
                "open_invoices": owed["open_invoices"],
            }
        )
    return summaries


@tool("lookup_customer", read_only=True, idempotent=True, title="Look up a customer")
def lookup_customer(context: ToolContext, params: LookupCustomerInput) -> dict[str, Any]:
    """Find customers by id, name, phone (any format), email or address, with their contacts,
    locations, five most recent jobs, estimates and invoices, and their open balance.
    Several criteria narrow the search (all must match)."""
    tenant_id = context.tenant(params.tenant_id)
    with context.engine.connect() as conn:
        found = lookup.find_customers(
            conn,
            tenant_id,
            customer_id=params.customer_id,
            name=params.name,
            phone=params.phone,
            email=params.email,
            address=params.address,
            limit=params.limit,
            fuzzy=True,
        )
        customers = customer_summaries(conn, tenant_id, found)
    answer: dict[str, Any] = {"customers": customers, "count": len(customers)}
    if not customers:
        answer["note"] = "no customer matches; try fewer words, another spelling or the phone"
    return answer


class CustomerRefInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: int | None = Field(None, description="ServiceTitan customer id.")
    name: str | None = Field(None, description="Customer name (if no id).")
    phone: str | None = Field(None, description="Customer phone, any format (if no id).")
    tenant_id: int | None = None


class TimelineInput(CustomerRefInput):
    limit: int = Field(50, ge=1, le=500, description="Newest events to return.")


@tool("customer_timeline", read_only=True, idempotent=True, title="Customer timeline")
def customer_timeline(context: ToolContext, params: TimelineInput) -> dict[str, Any]:
    """Everything that happened with one customer, newest first: jobs booked and completed,
    appointments, estimates created and sold, invoices and payments."""
    tenant_id = context.tenant(params.tenant_id)
    with context.engine.connect() as conn:
        customer = lookup.resolve_customer(
            conn, tenant_id, customer_id=params.customer_id, name=params.name, phone=params.phone
        )
        events = lookup.rows(
            conn,
            """
            select * from (
              select created_on as at, 'customer_created' as event, id as ref_id,
                     name as detail, null::numeric as amount
              from servicetitan.st_customers where tenant_id = :t and id = :c
              union all
              select j.created_on, 'job_booked', j.id,
                     concat_ws(': ', jt.name, j.raw ->> 'summary'), null
              from servicetitan.st_jobs j
              left join servicetitan.st_job_types jt
                on jt.tenant_id = j.tenant_id and jt.id = j.job_type_id
              where j.tenant_id = :t and j.customer_id = :c and j.deleted_at is null
              union all
              select completed_on, 'job_completed', id, job_number, total
              from servicetitan.st_jobs
              where tenant_id = :t and customer_id = :c and deleted_at is null
                and completed_on is not null
              union all
              select start_on, 'appointment_' || lower(coalesce(status, 'scheduled')), id,
                     appointment_number, null
              from servicetitan.st_appointments
              where tenant_id = :t and customer_id = :c and deleted_at is null
              union all
              select created_on, 'estimate_created', id, name, subtotal
              from servicetitan.st_estimates
              where tenant_id = :t and customer_id = :c and deleted_at is null
              union all
              select sold_on, 'estimate_sold', id, name, subtotal
              from servicetitan.st_estimates
              where tenant_id = :t and customer_id = :c and deleted_at is null
                and sold_on is not null
              union all
              select invoice_date, 'invoice_issued', id, reference_number, total
              from servicetitan.st_invoices
              where tenant_id = :t and customer_id = :c and deleted_at is null
              union all
              select paid_on, 'payment_received', id, type, total
              from servicetitan.st_payments
              where tenant_id = :t and customer_id = :c and deleted_at is null
            ) e
            where at is not null
            order by at desc, event limit :limit
            """,
            t=tenant_id,
            c=customer["id"],
            limit=params.limit,
        )
    return {
        "customer": {"id": customer["id"], "name": customer["name"]},
        "events": events,
        "count": len(events),
    }


class InsightsInput(CustomerRefInput):
    as_of: AwareDatetime | None = Field(None, description="Reference date; defaults to now.")


SEGMENT_RULES = (
    "prospect: no completed job; new: first completed job within 90 days; "
    "lapsed: last completed job more than 365 days ago; high_value: lifetime value >= $10,000; "
    "loyal: 3 or more completed jobs; occasional: the rest"
)


def segment_of(
    completed_jobs: int,
    first_service: datetime | None,
    last_service: datetime | None,
    lifetime_value: float,
    as_of: datetime,
) -> str:
    """The customer's segment by the rules in `SEGMENT_RULES` (first rule that applies)."""
    if completed_jobs == 0 or last_service is None:
        return "prospect"
    if first_service is not None and as_of - first_service <= timedelta(days=90):
        return "new"
    if as_of - last_service > timedelta(days=365):
        return "lapsed"
    if lifetime_value >= 10_000:
        return "high_value"
    if completed_jobs >= 3:
        return "loyal"
    return "occasional"


@tool("customer_insights", read_only=True, idempotent=True, title="Customer insights")
def customer_insights(context: ToolContext, params: InsightsInput) -> dict[str, Any]:
    """Lifetime value (sum of fully paid invoices), job counts, average ticket, last service,
    open estimates and balance, and a segment (prospect, new, lapsed, high_value, loyal,
    occasional) for one customer."""
    tenant_id = context.tenant(params.tenant_id)
    as_of = params.as_of or datetime.now(UTC)
    with context.engine.connect() as conn:
        customer = lookup.resolve_customer(
            conn, tenant_id, customer_id=params.customer_id, name=params.name, phone=params.phone
        )
        stats = lookup.rows(
            conn,
            """
            with invoices as (
              select total, servicetitan.invoice_balance_due(
                                tenant_id, customer_id, id, total, balance) as due
              from servicetitan.st_invoices
              where tenant_id = :t and customer_id = :c and deleted_at is null and total > 0
            )
            select
              (select coalesce(sum(total) filter (where due = 0), 0) from invoices)
                as lifetime_value,
              (select count(*) filter (where due = 0) from invoices) as paid_invoices,
              (select coalesce(sum(due), 0) from invoices) as open_balance,
              (select count(*) from servicetitan.st_jobs
               where tenant_id = :t and customer_id = :c and deleted_at is null) as jobs,
              (select count(*) from servicetitan.st_jobs
               where tenant_id = :t and customer_id = :c and deleted_at is null
                 and job_status = :completed) as completed_jobs,
              (select min(completed_on) from servicetitan.st_jobs
               where tenant_id = :t and customer_id = :c and deleted_at is null
                 and job_status = :completed and completed_on <= :as_of) as first_service,
              (select max(completed_on) from servicetitan.st_jobs
               where tenant_id = :t and customer_id = :c and deleted_at is null
                 and job_status = :completed and completed_on <= :as_of) as last_service,
              (select count(*) from servicetitan.st_estimates
               where tenant_id = :t and customer_id = :c and deleted_at is null
                 and status = :open) as open_estimates,
              (select coalesce(sum(subtotal), 0) from servicetitan.st_estimates
               where tenant_id = :t and customer_id = :c and deleted_at is null
                 and status = :open) as open_estimates_value,
              (select count(*) from servicetitan.st_estimates
               where tenant_id = :t and customer_id = :c and deleted_at is null
                 and status = :sold) as sold_estimates
            """,
            t=tenant_id,
            c=customer["id"],
            as_of=as_of,
            completed=JobStatus.COMPLETED,
            open=EstimateStatus.OPEN,
            sold=EstimateStatus.SOLD,
        )[0]
    value = float(stats["lifetime_value"])
    paid = int(stats["paid_invoices"])
    segment = segment_of(
        int(stats["completed_jobs"]), stats["first_service"], stats["last_service"], value, as_of
    )
    last = stats["last_service"]
    return {
        "customer": {"id": customer["id"], "name": customer["name"], "type": customer["type"]},
        **stats,
        "average_ticket": round(value / paid, 2) if paid else None,
        "days_since_last_service": (as_of - last).days if last else None,
        "segment": segment,
        "segment_rules": SEGMENT_RULES,
        "as_of": as_of,
    }


FollowupReason = Literal["open_estimate", "overdue_invoice", "lapsed_service"]


class FollowupInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reasons: list[FollowupReason] = Field(
        default_factory=lambda: ["open_estimate", "overdue_invoice", "lapsed_service"],
        description="Which follow-ups to list.",
    )
    estimate_age_days: int = Field(7, ge=0, description="Open estimates older than this.")
    invoice_overdue_days: int = Field(0, ge=0, description="Invoices this many days past due.")
    lapsed_after_days: int = Field(
        365, ge=30, description="No completed job for this long and nothing booked."
    )
    as_of: AwareDatetime | None = Field(None, description="Reference date; defaults to now.")
    limit: int = Field(50, ge=1, le=500)
    tenant_id: int | None = None


@tool("customers_needing_followup", read_only=True, idempotent=True, title="Follow-up list")
def customers_needing_followup(context: ToolContext, params: FollowupInput) -> dict[str, Any]:
    """Customers to contact, with the reason and the amount at stake, largest first:
    open estimates not sold or dismissed after N days, invoices past due, and customers whose
    last completed job is over N days old with nothing booked. Excludes do-not-service
    customers and inactive ones."""
    tenant_id = context.tenant(params.tenant_id)
    as_of = params.as_of or datetime.now(UTC)
    parts: list[str] = []
    if "open_estimate" in params.reasons:
        parts.append(
            """select e.customer_id, 'open_estimate' as reason, e.id as ref_id,
                      e.name as detail, e.subtotal as amount, e.created_on as since
               from servicetitan.st_estimates e
               where e.tenant_id = :t and e.deleted_at is null and e.status = :open
                 and e.created_on <= :as_of - make_interval(days => :estimate_days)"""
        )
    if "overdue_invoice" in params.reasons:
        # What is owed is servicetitan.invoice_balance_due (the rule the marts use); it never
        # exceeds ServiceTitan's balance, so `balance > 0` only narrows the candidates (and
        # matches the partial index on open invoices by due date).
        parts.append(
            """select * from (
                 select i.customer_id, 'overdue_invoice' as reason, i.id as ref_id,
                        i.reference_number as detail,
                        servicetitan.invoice_balance_due(
                          i.tenant_id, i.customer_id, i.id, i.total, i.balance) as amount,
                        i.due_date as since
                 from servicetitan.st_invoices i
                 where i.tenant_id = :t and i.deleted_at is null and i.balance > 0
                   and i.due_date <= :as_of - make_interval(days => :invoice_days)
               ) owed where amount > 0"""
        )
    if "lapsed_service" in params.reasons:
        parts.append(
            """select j.customer_id, 'lapsed_service' as reason, max(j.id) as ref_id,
                      max(j.job_number) as detail, null::numeric as amount,
                      max(j.completed_on) as since
               from servicetitan.st_jobs j
               where j.tenant_id = :t and j.deleted_at is null and j.job_status = :completed
                 and j.completed_on <= :as_of
               group by j.customer_id
               having max(j.completed_on) < :as_of - make_interval(days => :lapsed_days)
                  and not exists (
                    select 1 from servicetitan.st_appointments a
                    where a.tenant_id = :t and a.customer_id = j.customer_id
                      and a.deleted_at is null and a.start_on > :as_of
                      and a.status <> all(:closed))"""
        )
    if not parts:
        return {"followups": [], "count": 0}
    with context.engine.connect() as conn:
        followups = lookup.rows(
            conn,
            f"""
            select f.customer_id, c.name as customer_name, f.reason, f.ref_id, f.detail,
                   f.amount, f.since,
                   extract(day from :as_of - f.since)::int as days,
                   (select p.value from servicetitan.st_customer_contacts p
                    where p.tenant_id = c.tenant_id and p.customer_id = c.id
                      and p.deleted_at is null and p.type in ('MobilePhone', 'Phone')
                    order by p.type = 'MobilePhone' desc, p.id limit 1) as phone
            from ({" union all ".join(parts)}) f
            join servicetitan.st_customers c on c.tenant_id = :t and c.id = f.customer_id
            where c.deleted_at is null and coalesce(c.active, true)
              and not coalesce(c.do_not_service, false) and c.merged_to_id is null
            order by f.amount desc nulls last, f.since
            limit :limit
            """,
            t=tenant_id,
            as_of=as_of,
            estimate_days=params.estimate_age_days,
            invoice_days=params.invoice_overdue_days,
            lapsed_days=params.lapsed_after_days,
            limit=params.limit,
            open=EstimateStatus.OPEN,
            completed=JobStatus.COMPLETED,
            closed=list(AppointmentStatus.CLOSED),
        )
    return {
        "followups": followups,
        "count": len(followups),
        "limit_reached": len(followups) == params.limit,
        "as_of": as_of,
    }
