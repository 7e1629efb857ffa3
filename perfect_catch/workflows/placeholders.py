"""What a template may name: the event's payload and a few resolved placeholders.

The payload roots depend on the event type (an `estimate_created` payload has `estimate`, a
`job_completed` one has `job` and `location`), so a template is checked against its trigger's
event. Placeholders come from configuration (business phone, review link) or from the warehouse
(technician, next available date) and are resolved only when a template uses them; one that has
no value for an event stops the step rather than leaving a gap in the message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from perfect_catch.settings import WorkflowSettings
from perfect_catch.warehouse.event_types import EventType
from perfect_catch.warehouse.st_statuses import AppointmentStatus

_COMMON_ROOTS = frozenset({"customer", "event", "payload", "is_backfill", "timezone"})
EVENT_ROOTS: dict[EventType, frozenset[str]] = {
    "estimate_created": _COMMON_ROOTS | {"estimate"},
    "estimate_approved": _COMMON_ROOTS | {"estimate"},
    "estimate_rejected": _COMMON_ROOTS | {"estimate"},
    "job_created": _COMMON_ROOTS | {"job", "location"},
    "job_completed": _COMMON_ROOTS | {"job", "location"},
    "install_job_created": _COMMON_ROOTS | {"job", "location"},
    "invoice_created": _COMMON_ROOTS | {"invoice"},
    "invoice_overdue": _COMMON_ROOTS | {"invoice", "threshold_days"},
    "appointment_created": _COMMON_ROOTS | {"appointment", "job"},
    "call_missed": _COMMON_ROOTS | {"call"},
}
"""The payload roots of each event type (what its dbt model puts in `payload`)."""


class PlaceholderError(ValueError):
    """A placeholder has no value for this event (no technician, no phone on file, ...)."""


@dataclass(frozen=True)
class PlaceholderScope:
    """What resolving a placeholder may look at: the instance's event and the warehouse."""

    conn: sa.Connection
    config: WorkflowSettings
    tenant_id: int
    customer_id: int | None
    job_id: int | None
    estimate_id: int | None
    appointment_id: int | None
    timezone: str
    now: datetime


Resolver = Callable[[PlaceholderScope], Any]


def _technician(scope: PlaceholderScope) -> dict[str, Any] | None:
    """The technician of the event: assigned to its appointment or job, else who sold it."""
    row = scope.conn.execute(
        sa.text(
            """
            select t.name, t.phone_number
            from servicetitan.st_appointment_assignments a
            join servicetitan.st_technicians t
              on t.tenant_id = a.tenant_id and t.id = a.technician_id
            where a.tenant_id = :tenant and a.deleted_at is null
              and (a.appointment_id = :appointment or a.job_id = :job)
            order by (a.appointment_id = :appointment) desc nulls last,
                     a.assigned_on desc nulls last
            limit 1
            """
        ),
        {"tenant": scope.tenant_id, "appointment": scope.appointment_id, "job": scope.job_id},
    ).first()
    if row is None and scope.estimate_id is not None:
        row = scope.conn.execute(
            sa.text(
                """
                select t.name, t.phone_number
                from servicetitan.st_estimates e
                join servicetitan.st_technicians t on t.tenant_id = e.tenant_id and t.id = e.sold_by
                where e.tenant_id = :tenant and e.id = :estimate
                """
            ),
            {"tenant": scope.tenant_id, "estimate": scope.estimate_id},
        ).first()
    return None if row is None else {"name": row[0], "phone": row[1]}


def _technician_field(field: str) -> Resolver:
    def resolve(scope: PlaceholderScope) -> Any:
        technician = _technician(scope)
        return None if technician is None else technician[field]

    return resolve


def _next_available_date(scope: PlaceholderScope) -> str:
    """The next weekday (from tomorrow, tenant time) with fewer booked appointments than there
    are active technicians: a fair promise without asking ServiceTitan for capacity."""
    zone = ZoneInfo(scope.timezone)
    day = scope.now.astimezone(zone).date() + timedelta(days=1)
    technicians = scope.conn.execute(
        sa.text(
            "select count(*) from servicetitan.st_technicians"
            " where tenant_id = :tenant and coalesce(active, true) and deleted_at is null"
        ),
        {"tenant": scope.tenant_id},
    ).scalar_one()
    for _ in range(30):
        if day.weekday() < 5:
            start = datetime.combine(day, datetime.min.time(), zone)
            booked = scope.conn.execute(
                sa.text(
                    """select count(*) from servicetitan.st_appointments
                       where tenant_id = :tenant and deleted_at is null
                         and coalesce(status, '') <> :canceled
                         and start_on >= :start and start_on < :end"""
                ),
                {
                    "tenant": scope.tenant_id,
                    "start": start,
                    "end": start + timedelta(days=1),
                    "canceled": AppointmentStatus.CANCELED,
                },
            ).scalar_one()
            if booked < max(int(technicians), 1):
                break
        day += timedelta(days=1)
    return day.strftime("%A %B %-d")


def _appointment_window(scope: PlaceholderScope) -> str | None:
    """When the technician arrives for the event's job: the arrival window of its first
    appointment still ahead (else its first), e.g. "Tuesday March 3 between 8:00 AM and 10:00
    AM", in the customer's timezone."""
    row = scope.conn.execute(
        sa.text(
            """select coalesce(arrival_window_start, start_on) as starts,
                      coalesce(arrival_window_end, end_on) as ends
               from servicetitan.st_appointments
               where tenant_id = :tenant and job_id = :job and deleted_at is null
                 and coalesce(status, '') <> :canceled
               order by (coalesce(arrival_window_start, start_on) >= :now) desc,
                        coalesce(arrival_window_start, start_on)
               limit 1"""
        ),
        {
            "tenant": scope.tenant_id,
            "job": scope.job_id,
            "now": scope.now,
            "canceled": AppointmentStatus.CANCELED,
        },
    ).first()
    if row is None or row.starts is None:
        return None
    zone = ZoneInfo(scope.timezone)
    starts = row.starts.astimezone(zone)
    text = f"{starts:%A %B} {starts.day} between {starts:%-I:%M %p}"
    if row.ends is not None:
        return f"{text} and {row.ends.astimezone(zone):%-I:%M %p}"
    return f"{starts:%A %B} {starts.day} at {starts:%-I:%M %p}"


def _deadline(scope: PlaceholderScope) -> str:
    local = scope.now.astimezone(ZoneInfo(scope.timezone))
    return (local + timedelta(days=scope.config.estimate_discount_days)).strftime("%B %-d")


PLACEHOLDERS: dict[str, tuple[str, Resolver]] = {
    "business_name": ("the business name (BUSINESS_NAME)", lambda s: s.config.business_name),
    "business_phone": (
        "the phone customers call (BUSINESS_PHONE)",
        lambda s: s.config.business_phone,
    ),
    "review_link": ("where to leave a review (REVIEW_LINK)", lambda s: s.config.review_link),
    "discount_percent": (
        "the follow-up discount (ESTIMATE_DISCOUNT_PERCENT)",
        lambda s: s.config.estimate_discount_percent,
    ),
    "deadline": ("today + ESTIMATE_DISCOUNT_DAYS, in the customer's timezone", _deadline),
    "technician_name": ("the event's technician", _technician_field("name")),
    "technician_phone": ("the event's technician's phone", _technician_field("phone")),
    "next_available_date": ("the next weekday with free capacity", _next_available_date),
    "appointment_window": ("the arrival window of the job's appointment", _appointment_window),
}


def known_names(event_type: str) -> set[str]:
    """Every name a template of a workflow triggered by `event_type` may use."""
    return set(EVENT_ROOTS.get(event_type, _COMMON_ROOTS)) | set(PLACEHOLDERS)


def resolve(names: set[str], scope: PlaceholderScope) -> dict[str, Any]:
    """Values of the placeholders among `names`; one without a value raises PlaceholderError."""
    values: dict[str, Any] = {}
    for name in sorted(names & set(PLACEHOLDERS)):
        value = PLACEHOLDERS[name][1](scope)
        if value is None or value == "":
            raise PlaceholderError(f"placeholder {name!r} has no value for this event")
        values[name] = value
    return values
