"""Technicians, availability and appointments.

Availability comes from ServiceTitan's dispatch capacity endpoint (what the dispatch board
itself uses); bookings are checked against the technicians' other appointments in the
warehouse before anything is sent, so a double booking is refused with the clashing appointment
named. Dates without a time are days in the tenant's timezone (ST_TIMEZONE).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from perfect_catch.connectors.servicetitan import ServiceTitanClient
from perfect_catch.tools import lookup, writeback
from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.errors import ConflictError, NotFoundError, ToolInputError
from perfect_catch.tools.registry import tool
from perfect_catch.tools.servicetitan import check_future, check_technicians_free
from perfect_catch.warehouse.st_statuses import AppointmentStatus, JobStatus


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse(value: str) -> datetime:
    from perfect_catch.warehouse.loading.values import parse_timestamp

    return parse_timestamp(value)


def _day_bounds(context: ToolContext, day: date, days: int = 1) -> tuple[datetime, datetime]:
    zone = ZoneInfo(context.settings.st_timezone)
    start = datetime.combine(day, time(0), zone)
    return start, datetime.combine(day + timedelta(days=days), time(0), zone)


# --- technicians ------------------------------------------------------------------------------


class TechniciansInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    business_unit: int | str | None = Field(None, description="Business unit id or name.")
    name: str | None = Field(None, description="Part of the technician's name.")
    include_inactive: bool = False
    tenant_id: int | None = None


@tool("get_technicians", read_only=True, idempotent=True, title="List technicians")
def get_technicians(context: ToolContext, params: TechniciansInput) -> dict[str, Any]:
    """Technicians with their business unit, team, phone, email and shift hours."""
    tenant_id = context.tenant(params.tenant_id)
    clauses = ["t.tenant_id = :t", "t.deleted_at is null"]
    values: dict[str, Any] = {"t": tenant_id}
    with context.engine.connect() as conn:
        if not params.include_inactive:
            clauses.append("coalesce(t.active, true)")
        if params.business_unit is not None:
            unit = lookup.resolve(conn, tenant_id, lookup.BUSINESS_UNITS, params.business_unit)
            clauses.append("t.business_unit_id = :unit")
            values["unit"] = unit["id"]
        if params.name:
            clauses.append("t.name ilike :name")
            values["name"] = f"%{lookup.like_pattern(params.name)}%"
        technicians = lookup.rows(
            conn,
            f"""select t.id, t.name, t.active, t.business_unit_id, b.name as business_unit,
                       t.raw ->> 'team' as team, t.phone_number, t.email,
                       t.raw ->> 'shiftStart' as shift_start, t.raw ->> 'shiftEnd' as shift_end
                from servicetitan.st_technicians t
                left join servicetitan.st_business_units b
                  on b.tenant_id = t.tenant_id and b.id = t.business_unit_id
                where {" and ".join(clauses)} order by t.name""",
            **values,
        )
    return {"technicians": technicians, "count": len(technicians)}


# --- availability -----------------------------------------------------------------------------


class AvailabilityInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_date: date = Field(description="First day (tenant timezone), e.g. 2026-12-03.")
    days: int = Field(1, ge=1, le=14, description="Number of days to look at.")
    business_unit: int | str | None = Field(None, description="Business unit id or name.")
    job_type: int | str | None = Field(
        None, description="Job type id or name (its duration shapes the slots)."
    )
    only_available: bool = Field(True, description="Leave out fully booked slots.")
    tenant_id: int | None = None


def _capacity(
    client: ServiceTitanClient,
    start: datetime,
    end: datetime,
    unit_ids: list[int],
    job_type_id: int | None,
) -> list[dict[str, Any]]:
    body: dict[str, Any] = {
        "startsOnOrAfter": _iso(start),
        "endsOnOrBefore": _iso(end),
        "skillBasedAvailability": False,
    }
    if unit_ids:
        body["businessUnitIds"] = unit_ids
    if job_type_id is not None:
        body["jobTypeId"] = job_type_id
    answer = client.post("dispatch", "capacity", json=body) or {}
    return list(answer.get("availabilities") or [])


def _technician_names(conn: sa.Connection, tenant_id: int) -> dict[int, str]:
    return {
        r["id"]: r["name"]
        for r in lookup.rows(
            conn,
            "select id, name from servicetitan.st_technicians where tenant_id = :t",
            t=tenant_id,
        )
    }


def _slot(raw: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
    technicians = [
        {"id": t.get("id"), "name": t.get("name") or names.get(t.get("id"))}
        for t in raw.get("technicians") or []
        if t.get("status", "Available") == "Available"
    ]
    return {
        "start": raw.get("startUtc") or raw.get("start"),
        "end": raw.get("endUtc") or raw.get("end"),
        "available": bool(raw.get("isAvailable")),
        "open_hours": raw.get("openAvailability"),
        "total_hours": raw.get("totalAvailability"),
        "technicians": technicians,
    }


def _references(
    conn: sa.Connection, tenant_id: int, business_unit: int | str | None, job_type: int | str | None
) -> tuple[list[int], int | None]:
    unit_ids = []
    if business_unit is not None:
        unit_ids = [lookup.resolve(conn, tenant_id, lookup.BUSINESS_UNITS, business_unit)["id"]]
    job_type_id = None
    if job_type is not None:
        job_type_row = lookup.resolve(conn, tenant_id, lookup.JOB_TYPES, job_type)
        job_type_id = job_type_row["id"]
        if not unit_ids:
            unit_ids = list((job_type_row["raw"] or {}).get("businessUnitIds") or [])
    return unit_ids, job_type_id


@tool("get_availability", read_only=True, idempotent=True, open_world=True, title="Availability")
def get_availability(context: ToolContext, params: AvailabilityInput) -> dict[str, Any]:
    """Open appointment slots from ServiceTitan's dispatch capacity for one or more days, with
    the technicians free in each slot. Filter by business unit or job type."""
    tenant_id = context.tenant(params.tenant_id)
    start, end = _day_bounds(context, params.start_date, params.days)
    with context.engine.connect() as conn:
        unit_ids, job_type_id = _references(conn, tenant_id, params.business_unit, params.job_type)
        names = _technician_names(conn, tenant_id)
    with context.servicetitan(tenant_id) as client:
        raw_slots = _capacity(client, start, end, unit_ids, job_type_id)
    slots = [_slot(s, names) for s in raw_slots]
    if params.only_available:
        slots = [s for s in slots if s["available"]]
    return {
        "from": start,
        "to": end,
        "timezone": context.settings.st_timezone,
        "slots": slots,
        "count": len(slots),
    }


class NextSlotInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after: AwareDatetime | None = Field(None, description="Earliest start; defaults to now.")
    within_days: int = Field(21, ge=1, le=60, description="How far ahead to look.")
    business_unit: int | str | None = None
    job_type: int | str | None = None
    technician: int | str | None = Field(None, description="Only slots with this technician.")
    alternatives: int = Field(3, ge=0, le=10, description="Further slots to offer.")
    tenant_id: int | None = None


@tool(
    "find_next_available_slot",
    read_only=True,
    idempotent=True,
    open_world=True,
    title="Next available slot",
)
def find_next_available_slot(context: ToolContext, params: NextSlotInput) -> dict[str, Any]:
    """The earliest open slot (and a few alternatives) from ServiceTitan's dispatch capacity,
    optionally for one technician; a technician's slot is skipped when the warehouse shows
    them booked then."""
    tenant_id = context.tenant(params.tenant_id)
    after = params.after or datetime.now(UTC)
    horizon = after + timedelta(days=params.within_days)
    with context.engine.connect() as conn:
        unit_ids, job_type_id = _references(conn, tenant_id, params.business_unit, params.job_type)
        technician = (
            lookup.resolve(conn, tenant_id, lookup.TECHNICIANS, params.technician)
            if params.technician is not None
            else None
        )
        names = _technician_names(conn, tenant_id)
    found: list[dict[str, Any]] = []
    window_start = after
    wanted = params.alternatives + 1
    while window_start < horizon and len(found) < wanted:
        window_end = min(window_start + timedelta(days=7), horizon)
        with context.servicetitan(tenant_id) as client:
            raw_slots = _capacity(client, window_start, window_end, unit_ids, job_type_id)
        for raw in sorted(raw_slots, key=lambda s: str(s.get("startUtc") or s.get("start"))):
            slot = _slot(raw, names)
            if not slot["available"] or _parse(slot["start"]) < after:
                continue
            if technician is not None:
                if all(t["id"] != technician["id"] for t in slot["technicians"]):
                    continue
                with context.engine.connect() as conn:
                    try:
                        check_technicians_free(
                            conn,
                            tenant_id,
                            [technician["id"]],
                            _parse(slot["start"]),
                            _parse(slot["end"]),
                        )
                    except ConflictError:
                        continue
                slot["technicians"] = [{"id": technician["id"], "name": technician["name"]}]
            found.append(slot)
            if len(found) == wanted:
                break
        window_start = window_end
    if not found:
        raise NotFoundError(
            f"no open slot between {_iso(after)} and {_iso(horizon)}"
            + (f" for {technician['name']}" if technician else "")
            + "; widen within_days or drop the technician/business unit filter"
        )
    return {"slot": found[0], "alternatives": found[1:], "timezone": context.settings.st_timezone}


# --- appointments -----------------------------------------------------------------------------


class ScheduleInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_id: int = Field(description="The job the appointment belongs to.")
    start: AwareDatetime = Field(description="Start, ISO 8601 with offset.")
    end: AwareDatetime = Field(description="End, ISO 8601 with offset.")
    technicians: list[int | str] = Field(
        default_factory=list, description="Technician ids or names to assign."
    )
    special_instructions: str | None = None
    tenant_id: int | None = None


@tool("schedule_appointment", read_only=False, open_world=True, title="Add an appointment")
def schedule_appointment(context: ToolContext, params: ScheduleInput) -> dict[str, Any]:
    """Add another appointment to an existing job (a return visit, a second day). Refuses a
    closed job, a time in the past, and technicians already booked at that time. To book a
    new job use create_job; to move an appointment use reschedule_appointment."""
    tenant_id = context.tenant(params.tenant_id)
    check_future(params.start, params.end)
    with context.engine.connect() as conn:
        job = lookup.rows(
            conn,
            """select id, job_status from servicetitan.st_jobs
               where tenant_id = :t and id = :j and deleted_at is null""",
            t=tenant_id,
            j=params.job_id,
        )
        if not job:
            raise NotFoundError(f"job {params.job_id} does not exist; find it with search_jobs")
        if job[0]["job_status"] in JobStatus.CLOSED:
            raise ConflictError(f"job {params.job_id} is {job[0]['job_status']}; book a new job")
        technicians = [
            lookup.resolve(conn, tenant_id, lookup.TECHNICIANS, t) for t in params.technicians
        ]
        check_technicians_free(
            conn, tenant_id, [t["id"] for t in technicians], params.start, params.end
        )
    body: dict[str, Any] = {
        "jobId": params.job_id,
        "start": _iso(params.start),
        "end": _iso(params.end),
        "arrivalWindowStart": _iso(params.start),
        "arrivalWindowEnd": _iso(params.end),
    }
    if technicians:
        body["technicianIds"] = [t["id"] for t in technicians]
    if params.special_instructions:
        body["specialInstructions"] = params.special_instructions
    with context.servicetitan(tenant_id) as client:
        appointment = client.post("jpm", "appointments", json=body)
        warehouse = writeback.reflect(
            context,
            client,
            tenant_id,
            entity="appointments",
            record=appointment if isinstance(appointment, dict) else None,
            resync=("appointments", "appointment_assignments"),
        )
    return {
        "appointment": appointment,
        "technicians": [t["name"] for t in technicians],
        "warehouse": warehouse,
    }


class RescheduleInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    appointment_id: int = Field(description="The appointment to move.")
    start: AwareDatetime = Field(description="New start, ISO 8601 with offset.")
    end: AwareDatetime | None = Field(None, description="New end; defaults to the same length.")
    tenant_id: int | None = None


@tool(
    "reschedule_appointment",
    read_only=False,
    idempotent=True,
    open_world=True,
    title="Reschedule an appointment",
)
def reschedule_appointment(context: ToolContext, params: RescheduleInput) -> dict[str, Any]:
    """Move an appointment to a new time, keeping its technicians. Refuses done or canceled
    appointments, times in the past, and times when an assigned technician is booked
    elsewhere."""
    tenant_id = context.tenant(params.tenant_id)
    with context.engine.connect() as conn:
        found = lookup.rows(
            conn,
            """select a.id, a.job_id, a.status, a.start_on, a.end_on,
                      array(select s.technician_id from servicetitan.st_appointment_assignments s
                            where s.tenant_id = a.tenant_id and s.appointment_id = a.id
                              and s.deleted_at is null and coalesce(s.active, true))
                        as technician_ids
               from servicetitan.st_appointments a
               where a.tenant_id = :t and a.id = :a and a.deleted_at is null""",
            t=tenant_id,
            a=params.appointment_id,
        )
        if not found:
            raise NotFoundError(f"appointment {params.appointment_id} does not exist")
        current = found[0]
        if current["status"] in AppointmentStatus.CLOSED:
            raise ConflictError(
                f"appointment {params.appointment_id} is {current['status']} and cannot move"
            )
        length = (current["end_on"] - current["start_on"]) if current["end_on"] else None
        end = params.end or (params.start + (length or timedelta(hours=2)))
        check_future(params.start, end)
        check_technicians_free(
            conn,
            tenant_id,
            list(current["technician_ids"]),
            params.start,
            end,
            ignore_appointment=params.appointment_id,
        )
    body = {
        "start": _iso(params.start),
        "end": _iso(end),
        "arrivalWindowStart": _iso(params.start),
        "arrivalWindowEnd": _iso(end),
    }
    with context.servicetitan(tenant_id) as client:
        appointment = client.patch(
            "jpm", f"appointments/{params.appointment_id}/reschedule", json=body
        )
        warehouse = writeback.reflect(
            context, client, tenant_id, entity="appointments", record=appointment
        )
    return {
        "appointment_id": params.appointment_id,
        "job_id": current["job_id"],
        "previous": {"start": current["start_on"], "end": current["end_on"]},
        "new": {"start": body["start"], "end": body["end"]},
        "status": (appointment or {}).get("status"),
        "warehouse": warehouse,
    }


# --- dispatch board and capacity --------------------------------------------------------------


class DispatchBoardInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: date = Field(description="The day (tenant timezone), e.g. 2026-12-03.")
    business_unit: int | str | None = None
    tenant_id: int | None = None


@tool("get_dispatch_board", read_only=True, idempotent=True, title="Dispatch board")
def get_dispatch_board(context: ToolContext, params: DispatchBoardInput) -> dict[str, Any]:
    """A day's appointments grouped by technician (and the unassigned ones), with job,
    customer, address, time and status, in start order."""
    tenant_id = context.tenant(params.tenant_id)
    start, end = _day_bounds(context, params.day)
    values: dict[str, Any] = {"t": tenant_id, "start": start, "end": end}
    unit_clause = ""
    with context.engine.connect() as conn:
        if params.business_unit is not None:
            values["unit"] = lookup.resolve(
                conn, tenant_id, lookup.BUSINESS_UNITS, params.business_unit
            )["id"]
            unit_clause = "and j.business_unit_id = :unit"
        entries = lookup.rows(
            conn,
            f"""select a.id as appointment_id, a.start_on, a.end_on, a.status,
                       a.job_id, j.job_number, jt.name as job_type, j.job_status,
                       c.name as customer_name,
                       concat_ws(', ', l.street, l.city, l.state, l.zip) as address,
                       s.technician_id, coalesce(t.name, s.technician_name) as technician
                from servicetitan.st_appointments a
                join servicetitan.st_jobs j on j.tenant_id = a.tenant_id and j.id = a.job_id
                left join servicetitan.st_job_types jt
                  on jt.tenant_id = j.tenant_id and jt.id = j.job_type_id
                left join servicetitan.st_customers c
                  on c.tenant_id = j.tenant_id and c.id = j.customer_id
                left join servicetitan.st_locations l
                  on l.tenant_id = j.tenant_id and l.id = j.location_id
                left join servicetitan.st_appointment_assignments s
                  on s.tenant_id = a.tenant_id and s.appointment_id = a.id
                 and s.deleted_at is null and coalesce(s.active, true)
                left join servicetitan.st_technicians t
                  on t.tenant_id = s.tenant_id and t.id = s.technician_id
                where a.tenant_id = :t and a.deleted_at is null
                  and a.start_on >= :start and a.start_on < :end {unit_clause}
                order by technician nulls last, a.start_on""",
            **values,
        )
    board: dict[str, dict[str, Any]] = {}
    for entry in entries:
        key = entry.pop("technician") or "Unassigned"
        column = board.setdefault(
            key, {"technician": key, "technician_id": entry["technician_id"], "appointments": []}
        )
        entry.pop("technician_id")
        column["appointments"].append(entry)
    return {
        "day": params.day,
        "timezone": context.settings.st_timezone,
        "technicians": list(board.values()),
        "appointments": len({e["appointment_id"] for e in entries}),
    }


def technician_hours(
    context: ToolContext,
    conn: sa.Connection,
    tenant_id: int,
    start: datetime,
    end: datetime,
    statuses: tuple[str, ...] | None = None,
) -> list[dict[str, Any]]:
    """Per active technician: shift hours on weekdays in [start, end) and hours of
    appointments assigned to them there (optionally only with the given statuses)."""
    technicians = lookup.rows(
        conn,
        """select id, name, raw ->> 'shiftStart' as shift_start, raw ->> 'shiftEnd' as shift_end
           from servicetitan.st_technicians
           where tenant_id = :t and deleted_at is null and coalesce(active, true)
           order by name""",
        t=tenant_id,
    )
    booked = {
        r["technician_id"]: r
        for r in lookup.rows(
            conn,
            """select s.technician_id, count(distinct a.id) as appointments,
                      coalesce(sum(extract(epoch from (least(a.end_on, :end)
                                                       - greatest(a.start_on, :start))) / 3600),
                               0) as hours
               from servicetitan.st_appointments a
               join servicetitan.st_appointment_assignments s
                 on s.tenant_id = a.tenant_id and s.appointment_id = a.id
                and s.deleted_at is null and coalesce(s.active, true)
               where a.tenant_id = :t and a.deleted_at is null and a.status <> :canceled
                 and (cast(:statuses as text[]) is null or a.status = any(:statuses))
                 and a.start_on < :end and a.end_on > :start
               group by s.technician_id""",
            t=tenant_id,
            start=start,
            end=end,
            statuses=list(statuses) if statuses else None,
            canceled=AppointmentStatus.CANCELED,
        )
    }
    zone = ZoneInfo(context.settings.st_timezone)
    first_day = start.astimezone(zone).date()
    last_day = (end - timedelta(microseconds=1)).astimezone(zone).date()
    weekdays = sum(
        1
        for n in range((last_day - first_day).days + 1)
        if (first_day + timedelta(days=n)).weekday() < 5
    )
    result = []
    for tech in technicians:
        shift = _shift_hours(tech["shift_start"], tech["shift_end"])
        available = round(shift * weekdays, 2)
        hours = float((booked.get(tech["id"]) or {}).get("hours") or 0)
        result.append(
            {
                "technician_id": tech["id"],
                "technician": tech["name"],
                "appointments": int((booked.get(tech["id"]) or {}).get("appointments") or 0),
                "booked_hours": round(hours, 2),
                "available_hours": available,
                "utilization": round(hours / available, 3) if available else None,
                "free_hours": round(max(available - hours, 0), 2),
            }
        )
    return result


def _shift_hours(start: str | None, end: str | None) -> float:
    try:
        begin = time.fromisoformat(start or "")
        finish = time.fromisoformat(end or "")
    except ValueError:
        return 8.0
    minutes = (finish.hour * 60 + finish.minute) - (begin.hour * 60 + begin.minute)
    return minutes / 60 if minutes > 0 else 8.0


class CapacityInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_date: date = Field(description="First day (tenant timezone).")
    days: int = Field(5, ge=1, le=31)
    tenant_id: int | None = None


@tool("technician_capacity", read_only=True, idempotent=True, title="Technician capacity")
def technician_capacity(context: ToolContext, params: CapacityInput) -> dict[str, Any]:
    """For each active technician over the coming days: shift hours (weekdays), hours already
    booked, free hours and how full they are. Use it to balance work before booking."""
    tenant_id = context.tenant(params.tenant_id)
    start, end = _day_bounds(context, params.start_date, params.days)
    with context.engine.connect() as conn:
        rows = technician_hours(context, conn, tenant_id, start, end)
    if not rows:
        raise ToolInputError("no active technicians in the warehouse; has ServiceTitan synced?")
    return {"from": start, "to": end, "technicians": rows}
