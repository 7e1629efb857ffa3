"""Marketing reports over dbt's marketing marts: which lead sources bring sold work
(`marts.marketing_attribution`) and how fast new leads hear back (`marts.lead_response`,
`marts.lead_response_summary`). The marts hold the rules (matching by normalised phone and
email, first and last touch, what counts as a response); these tools only filter and sum."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from perfect_catch.tools import lookup
from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.errors import ToolInputError, ToolUnavailable
from perfect_catch.tools.registry import tool

Grouping = Literal["source", "source_month", "campaign", "month"]
Attribution = Literal["first_touch", "last_touch"]

_GROUP_COLUMNS: dict[Grouping, tuple[str, ...]] = {
    "source": ("source_system", "lead_source"),
    "source_month": ("source_system", "lead_source", "month"),
    "campaign": ("source_system", "lead_source", "campaign"),
    "month": ("month",),
}


class MarketingAttributionInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_date: date | None = Field(None, description="First month included (any day in it).")
    end_date: date | None = Field(None, description="Last month included (any day in it).")
    grouping: Grouping = Field(
        "source",
        description="Rows per lead source (source), per source and month (source_month), per "
        "source and campaign (campaign), or per month across sources (month).",
    )
    attribution: Attribution = Field(
        "first_touch",
        description="Credit a sale to the customer's first inbound touch before the estimate "
        "(first_touch) or the latest one (last_touch).",
    )
    source_system: Literal["callrail", "gohighlevel", "servicetitan"] | None = Field(
        None, description="Only one system's sources (CallRail tracking, GHL, ST campaigns)."
    )


class LeadResponseInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_date: date | None = Field(None, description="First day of first touches included.")
    end_date: date | None = Field(None, description="Last day of first touches included.")
    source: str | None = Field(
        None,
        description="Only leads from this lead source (e.g. 'Google Ads', 'facebook') or "
        "source system ('callrail', 'gohighlevel'); case-insensitive.",
        max_length=200,
    )


def _require(conn: sa.Connection, relation: str, tool_name: str) -> None:
    if conn.execute(sa.text("select to_regclass(:r)"), {"r": relation}).scalar() is None:
        raise ToolUnavailable(
            f"{tool_name} reads dbt's {relation}, which is not built yet: run "
            "`perfect-catch run-once` or `perfect-catch dbt build`"
        )


def _check_period(start: date | None, end: date | None) -> None:
    if start and end and end < start:
        raise ToolInputError("end_date must not be before start_date")


@tool(
    "marketing_attribution",
    read_only=True,
    idempotent=True,
    title="Which lead sources bring sold jobs",
)
def marketing_attribution(
    context: ToolContext, params: MarketingAttributionInput
) -> dict[str, Any]:
    """Leads, calls answered and missed, customers matched, estimates, estimates sold, sold
    revenue and cost per sold job (where the shop recorded a cost) per lead source: CallRail
    tracking sources, GoHighLevel sources and ServiceTitan campaigns. Leads are matched to
    customers by normalised phone and email; a sale is credited to the customer's first or last
    inbound touch before the estimate (`attribution`). Sorted by sold revenue."""
    _check_period(params.start_date, params.end_date)
    columns = _GROUP_COLUMNS[params.grouping]
    keys = ", ".join(columns)
    with context.engine.connect() as conn:
        _require(conn, "marts.marketing_attribution", "marketing_attribution")
        rows = lookup.rows(
            conn,
            f"""select {keys},
                       sum(leads) as leads, sum(calls_answered) as calls_answered,
                       sum(calls_missed) as calls_missed,
                       sum(customers_matched) as customers_matched,
                       sum(estimates) as estimates, sum(estimates_sold) as estimates_sold,
                       sum(sold_revenue) as sold_revenue, sum(marketing_cost) as marketing_cost,
                       round(sum(marketing_cost) / nullif(sum(estimates_sold)
                           filter (where marketing_cost is not null), 0), 2)
                           as cost_per_sold_job
                from marts.marketing_attribution
                where attribution = :attribution
                  and (cast(:source_system as text) is null or source_system = :source_system)
                  and (cast(:start as date) is null
                       or month >= date_trunc('month', cast(:start as date)))
                  and (cast(:end as date) is null
                       or month <= date_trunc('month', cast(:end as date)))
                group by {keys}
                order by sum(sold_revenue) desc, {keys}""",
            attribution=params.attribution,
            source_system=params.source_system,
            start=params.start_date,
            end=params.end_date,
        )
    return {
        "attribution": params.attribution,
        "grouping": params.grouping,
        "period": {"start_date": params.start_date, "end_date": params.end_date},
        "rows": rows,
    }


@tool("lead_response_time", read_only=True, idempotent=True, title="How fast leads hear back")
def lead_response_time(context: ToolContext, params: LeadResponseInput) -> dict[str, Any]:
    """Minutes from a lead's first inbound touch (call, web form, GoHighLevel contact) to the
    first response (call back, SMS or email sent): median, 90th percentile and worst over the
    period, how many leads never heard back, how many booked a job, and the same per source
    and week. Leads still unanswered are listed first, oldest first (up to 20)."""
    _check_period(params.start_date, params.end_date)
    filters = """(cast(:start as date) is null or first_touch_at >= cast(:start as date))
        and (cast(:end as date) is null or first_touch_at < cast(:end as date) + 1)
        and (cast(:source as text) is null or lower(lead_source) = lower(:source)
             or source_system = lower(:source))"""
    values = {"start": params.start_date, "end": params.end_date, "source": params.source}
    with context.engine.connect() as conn:
        _require(conn, "marts.lead_response", "lead_response_time")
        overall = lookup.rows(
            conn,
            f"""select count(*) as leads, count(response_minutes) as responded_leads,
                       round(cast(percentile_cont(0.5) within group (order by response_minutes)
                           as numeric), 1) as median_minutes,
                       round(cast(percentile_cont(0.9) within group (order by response_minutes)
                           as numeric), 1) as p90_minutes,
                       max(response_minutes) as worst_minutes,
                       count(*) filter (where became_booked_job) as booked_jobs
                from marts.lead_response where {filters}""",
            **values,
        )[0]
        by_source_week = lookup.rows(
            conn,
            f"""select source_system, lead_source, cast(date_trunc('week', first_touch_at)
                           as date) as week,
                       count(*) as leads, count(response_minutes) as responded_leads,
                       round(cast(percentile_cont(0.5) within group (order by response_minutes)
                           as numeric), 1) as median_minutes,
                       round(cast(percentile_cont(0.9) within group (order by response_minutes)
                           as numeric), 1) as p90_minutes,
                       max(response_minutes) as worst_minutes,
                       count(*) filter (where became_booked_job) as booked_jobs
                from marts.lead_response where {filters}
                group by 1, 2, 3 order by 3 desc, 1, 2 limit 200""",
            **values,
        )
        unanswered = lookup.rows(
            conn,
            f"""select lead_key, source_system, lead_source, first_touch_type, first_touch_at,
                       customer_id
                from marts.lead_response
                where response_minutes is null and {filters}
                order by first_touch_at limit 20""",
            **values,
        )
    return {
        "period": {"start_date": params.start_date, "end_date": params.end_date},
        "source": params.source,
        "overall": overall,
        "by_source_week": by_source_week,
        "unanswered": unanswered,
    }
