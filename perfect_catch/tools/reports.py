"""Business reports over the warehouse: pipeline, receivables, technicians, sales and the
health of the ServiceTitan copy itself. Periods are optional; without one a report covers all
the data the warehouse holds."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from perfect_catch.tools import lookup
from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.errors import ToolInputError, ToolUnavailable
from perfect_catch.tools.registry import tool
from perfect_catch.tools.scheduling import technician_hours
from perfect_catch.warehouse.catalog import ENTITIES
from perfect_catch.warehouse.st_statuses import AppointmentStatus, EstimateStatus


class PeriodInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_date: date | None = Field(None, description="First day (tenant timezone), inclusive.")
    end_date: date | None = Field(None, description="Last day (tenant timezone), inclusive.")
    tenant_id: int | None = None


def _bounds(context: ToolContext, params: PeriodInput) -> tuple[datetime, datetime]:
    zone = ZoneInfo(context.settings.st_timezone)
    start = (
        datetime.combine(params.start_date, time(0), zone)
        if params.start_date
        else datetime(1900, 1, 1, tzinfo=UTC)
    )
    end = (
        datetime.combine(params.end_date + timedelta(days=1), time(0), zone)
        if params.end_date
        else datetime(3000, 1, 1, tzinfo=UTC)
    )
    if end <= start:
        raise ToolInputError("end_date must not be before start_date")
    return start, end


@tool("pipeline_by_stage", read_only=True, idempotent=True, title="Sales pipeline")
def pipeline_by_stage(context: ToolContext, params: PeriodInput) -> dict[str, Any]:
    """Estimates by status (count and value), open estimates by age, and jobs by status,
    for estimates and jobs created in the period."""
    tenant_id = context.tenant(params.tenant_id)
    start, end = _bounds(context, params)
    values = {"t": tenant_id, "start": start, "end": end}
    with context.engine.connect() as conn:
        estimates = lookup.rows(
            conn,
            """select coalesce(status, 'Unknown') as stage, count(*) as count,
                      coalesce(sum(subtotal), 0) as value
               from servicetitan.st_estimates
               where tenant_id = :t and deleted_at is null
                 and created_on >= :start and created_on < :end
               group by 1 order by 1""",
            **values,
        )
        open_by_age = lookup.rows(
            conn,
            """select case when age <= 7 then '0-7 days' when age <= 30 then '8-30 days'
                           when age <= 90 then '31-90 days' else 'over 90 days' end as age,
                      count(*) as count, coalesce(sum(subtotal), 0) as value
               from (select subtotal, extract(day from now() - created_on) as age
                     from servicetitan.st_estimates
                     where tenant_id = :t and deleted_at is null and status = :open
                       and created_on >= :start and created_on < :end) e
               group by 1 order by min(age)""",
            **values,
            open=EstimateStatus.OPEN,
        )
        jobs = lookup.rows(
            conn,
            """select coalesce(job_status, 'Unknown') as stage, count(*) as count,
                      coalesce(sum(total), 0) as value
               from servicetitan.st_jobs
               where tenant_id = :t and deleted_at is null
                 and created_on >= :start and created_on < :end
               group by 1 order by 1""",
            **values,
        )
    return {
        "estimates_by_status": estimates,
        "open_estimates_by_age": open_by_age,
        "jobs_by_status": jobs,
        "period": {"from": params.start_date, "to": params.end_date},
    }


class AgingInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: AwareDatetime | None = Field(None, description="Aging date; defaults to now.")
    top_customers: int = Field(10, ge=0, le=100)
    tenant_id: int | None = None


@tool("ar_aging", read_only=True, idempotent=True, title="Accounts receivable aging")
def ar_aging(context: ToolContext, params: AgingInput) -> dict[str, Any]:
    """Unpaid invoice balances by days past due (current, 1-30, 31-60, 61-90, over 90), and
    the customers who owe the most. Reads dbt's `marts.invoices` (what is owed) and ages it
    with the SQL functions the marts use (`public.days_past_due`, `public.ar_aging_bucket`)."""
    tenant_id = context.tenant(params.tenant_id)
    as_of = params.as_of or datetime.now(UTC)
    with context.engine.connect() as conn:
        if conn.execute(sa.text("select to_regclass('marts.invoices')")).scalar() is None:
            raise ToolUnavailable(
                "ar_aging reads dbt's marts.invoices, which is not built yet: run "
                "`perfect-catch dbt build` (or wait for the marts' schedule)"
            )
        buckets = lookup.rows(
            conn,
            """select public.ar_aging_bucket(days) as bucket, count(*) as invoices,
                      sum(balance_due) as balance
               from (select balance_due, public.days_past_due(due_at, :as_of) as days
                     from marts.invoices
                     where tenant_id = :t and balance_due > 0 and invoiced_at <= :as_of) i
               group by 1 order by min(days)""",
            t=tenant_id,
            as_of=as_of,
        )
        debtors = lookup.rows(
            conn,
            """select customer_id, max(customer_name) as customer_name, count(*) as invoices,
                      sum(balance_due) as balance, min(due_at) as oldest_due
               from marts.invoices
               where tenant_id = :t and balance_due > 0 and invoiced_at <= :as_of
               group by customer_id order by balance desc limit :top""",
            t=tenant_id,
            as_of=as_of,
            top=params.top_customers,
        )
    total = sum((b["balance"] for b in buckets), 0)
    return {
        "as_of": as_of,
        "total_outstanding": total,
        "buckets": buckets,
        "top_customers": debtors,
    }


class UtilizationInput(PeriodInput):
    completed_only: bool = Field(
        False, description="Count only appointments marked Done (else all but canceled)."
    )


@tool("technician_utilization", read_only=True, idempotent=True, title="Technician utilization")
def technician_utilization(context: ToolContext, params: UtilizationInput) -> dict[str, Any]:
    """Per technician over a period: appointment hours against weekday shift hours. Give a
    start and end date (the report needs a bounded period)."""
    if params.start_date is None or params.end_date is None:
        raise ToolInputError("give start_date and end_date (at most 366 days apart)")
    if (params.end_date - params.start_date).days > 366:
        raise ToolInputError("the period is limited to 366 days")
    tenant_id = context.tenant(params.tenant_id)
    start, end = _bounds(context, params)
    statuses = (AppointmentStatus.DONE,) if params.completed_only else None
    with context.engine.connect() as conn:
        rows = technician_hours(context, conn, tenant_id, start, end, statuses)
    booked = sum(r["booked_hours"] for r in rows)
    available = sum(r["available_hours"] for r in rows)
    return {
        "period": {"from": params.start_date, "to": params.end_date},
        "technicians": sorted(rows, key=lambda r: -(r["utilization"] or 0)),
        "team_utilization": round(booked / available, 3) if available else None,
    }


class CloseRateInput(PeriodInput):
    by: str = Field("business_unit", description="Group by business_unit, sold_by or none.")


@tool("estimate_close_rate", read_only=True, idempotent=True, title="Estimate close rate")
def estimate_close_rate(context: ToolContext, params: CloseRateInput) -> dict[str, Any]:
    """Share of estimates sold (by count and by value) for estimates created in the period,
    overall and by business unit or seller. Decided = sold + dismissed; open ones are shown
    apart.

    The rate is SQL function `public.estimate_close_rate`, which dbt's `estimate_pipeline` mart
    calls too. It reads the raw estimates rather than the mart because it groups by seller and
    by any span of days, which the monthly mart cannot; sold over decided rather than sold over
    not open, because only a sale or a dismissal is a decision (a status ServiceTitan may add
    later is not counted as lost)."""
    groupings = {
        "business_unit": (
            "coalesce(b.name, 'none')",
            "left join servicetitan.st_business_units b"
            " on b.tenant_id = e.tenant_id and b.id = e.business_unit_id",
        ),
        "sold_by": (
            "coalesce(t.name, 'not sold')",
            "left join servicetitan.st_technicians t"
            " on t.tenant_id = e.tenant_id and t.id = e.sold_by",
        ),
        "none": ("'all'", ""),
    }
    if params.by not in groupings:
        raise ToolInputError("by must be business_unit, sold_by or none")
    label, join = groupings[params.by]
    tenant_id = context.tenant(params.tenant_id)
    start, end = _bounds(context, params)
    query = f"""
        select {{label}} as grp,
               count(*) filter (where e.status = :sold) as sold,
               count(*) filter (where e.status = :dismissed) as dismissed,
               count(*) filter (where e.status = :open) as open,
               coalesce(sum(e.subtotal) filter (where e.status = :sold), 0) as sold_value,
               coalesce(sum(e.subtotal) filter (where e.status in (:sold, :dismissed)), 0)
                 as decided_value,
               public.estimate_close_rate(
                 count(*) filter (where e.status = :sold),
                 count(*) filter (where e.status = :dismissed)) as close_rate,
               public.estimate_close_rate(
                 sum(e.subtotal) filter (where e.status = :sold),
                 sum(e.subtotal) filter (where e.status = :dismissed)) as value_close_rate
        from servicetitan.st_estimates e {join}
        where e.tenant_id = :t and e.deleted_at is null
          and e.created_on >= :start and e.created_on < :end
        group by 1 order by 1"""
    values = {
        "t": tenant_id,
        "start": start,
        "end": end,
        "sold": EstimateStatus.SOLD,
        "dismissed": EstimateStatus.DISMISSED,
        "open": EstimateStatus.OPEN,
    }
    with context.engine.connect() as conn:
        groups = lookup.rows(conn, query.format(label=label), **values)
        overall = lookup.rows(conn, query.format(label="'all'"), **values)
    for row in [*groups, *overall]:
        for rate in ("close_rate", "value_close_rate"):
            row[rate] = round(float(row[rate]), 3) if row[rate] is not None else None
    return {
        "overall": overall[0] if overall else None,
        "groups": groups if params.by != "none" else [],
        "period": {"from": params.start_date, "to": params.end_date},
    }


class SyncHealthInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stale_after_minutes: int = Field(60, ge=1, description="Older syncs are flagged stale.")
    tenant_id: int | None = None


@tool("sync_health", read_only=True, idempotent=True, title="ServiceTitan sync health")
def sync_health(context: ToolContext, params: SyncHealthInput) -> dict[str, Any]:
    """How fresh the warehouse copy of ServiceTitan is: per entity, the last sync, the last
    full refresh, rows held and records rejected (with the latest reason). Stale or never
    synced entities are listed first."""
    tenant_id = context.tenant(params.tenant_id)
    now = datetime.now(UTC)
    with context.engine.connect() as conn:
        states = {
            r["entity"]: r
            for r in lookup.rows(
                conn,
                """select entity, updated_at, last_full_sync_at, watermark,
                          continuation_token is not null as has_token
                   from public.sync_state where source = 'servicetitan' and tenant_id = :t""",
                t=str(tenant_id),
            )
        }
        rejects = {
            r["entity"]: r
            for r in lookup.rows(
                conn,
                """select entity, count(*) as rejected,
                          count(*) filter (where rejected_at > now() - interval '1 day')
                            as rejected_last_day,
                          (array_agg(reason order by rejected_at desc))[1] as latest_reason,
                          max(rejected_at) as last_rejected_at
                   from public.sync_rejects where source = 'servicetitan' and tenant_id = :t
                   group by entity""",
                t=str(tenant_id),
            )
        }
        entities = []
        for spec in ENTITIES:
            count = lookup.rows(
                conn,
                f"select count(*) filter (where deleted_at is null) as live, count(*) as total "
                f"from {spec.qualified} where tenant_id = :t",
                t=tenant_id,
            )[0]
            state = states.get(spec.name)
            last = state["updated_at"] if state else None
            age = round((now - last).total_seconds() / 60, 1) if last else None
            status = (
                "never synced"
                if last is None
                else "stale"
                if age is not None and age > params.stale_after_minutes
                else "ok"
            )
            reject = rejects.get(spec.name) or {}
            if reject.get("rejected_last_day"):
                status = "rejects" if status == "ok" else status
            entities.append(
                {
                    "entity": spec.name,
                    "table": spec.qualified,
                    "status": status,
                    "last_sync": last,
                    "minutes_since_sync": age,
                    "last_full_refresh": state["last_full_sync_at"] if state else None,
                    "live_rows": count["live"],
                    "deleted_rows": count["total"] - count["live"],
                    "rejected": reject.get("rejected", 0),
                    "rejected_last_day": reject.get("rejected_last_day", 0),
                    "latest_reject_reason": reject.get("latest_reason"),
                }
            )
    order = {"never synced": 0, "stale": 1, "rejects": 2, "ok": 3}
    entities.sort(key=lambda e: (order[e["status"]], e["entity"]))
    problems = [e["entity"] for e in entities if e["status"] != "ok"]
    return {
        "healthy": not problems,
        "problems": problems,
        "entities": entities,
        "checked_at": now,
    }
