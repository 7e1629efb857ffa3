"""ServiceTitan jobs, and a guarded pass-through to the ServiceTitan API.

Reads come from the warehouse (fast, joinable); a job missing there is fetched from
ServiceTitan. Writes go to ServiceTitan and are then reflected in the warehouse.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson
import sqlalchemy as sa
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from perfect_catch.tools import lookup, writeback
from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.errors import ConflictError, NotFoundError, ToolInputError
from perfect_catch.tools.registry import tool
from perfect_catch.warehouse.st_statuses import AppointmentStatus

MAX_RESPONSE_CHARS = 60_000

# --- call_st_api ------------------------------------------------------------------------------

MODULES = (
    "accounting",
    "crm",
    "dispatch",
    "equipmentsystems",
    "jpm",
    "marketing",
    "pricebook",
    "sales",
    "settings",
)


# (method, module, path pattern) -> entities to re-sync afterwards.
WRITE_ALLOW_LIST: tuple[tuple[str, str, re.Pattern[str], tuple[str, ...]], ...] = (
    ("POST", "jpm", re.compile(r"jobs"), ("jobs", "appointments", "appointment_assignments")),
    ("POST", "jpm", re.compile(r"jobs/\d+/notes"), ("jobs",)),
    ("POST", "jpm", re.compile(r"appointments"), ("appointments", "appointment_assignments")),
    ("PATCH", "jpm", re.compile(r"appointments/\d+/reschedule"), ("appointments",)),
    ("POST", "crm", re.compile(r"customers/\d+/notes"), ("customers",)),
    ("PUT", "sales", re.compile(r"estimates/\d+/items"), ("estimates",)),
    ("PUT", "sales", re.compile(r"estimates/\d+/(?:sell|dismiss)"), ("estimates",)),
    ("POST", "dispatch", re.compile(r"capacity"), ()),
    (
        "POST",
        "dispatch",
        re.compile(r"appointment-assignments/(?:assign|unassign)-technicians"),
        ("appointment_assignments",),
    ),
)
_PATH = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-/]*")


class CallStApiInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = Field(
        "GET", description="HTTP method. Anything but GET must be on the write allow-list."
    )
    module: str = Field(description=f"API module: one of {', '.join(MODULES)}.")
    path: str = Field(
        description="Path after /{module}/v2/tenant/{tenant}/, e.g. 'jobs/123' or 'estimates'.",
        max_length=300,
    )
    params: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Query-string parameters (GET)."
    )
    body: dict[str, Any] | None = Field(None, description="JSON body of a write.")
    tenant_id: int | None = Field(None, description="Tenant; defaults to the configured one.")


def _allowed_write(method: str, module: str, path: str) -> tuple[str, ...] | None:
    for allowed_method, allowed_module, pattern, entities in WRITE_ALLOW_LIST:
        if method == allowed_method and module == allowed_module and pattern.fullmatch(path):
            return entities
    return None


def _shorten(body: Any) -> tuple[Any, str | None]:
    """Keep a large list response within what a model can read, saying what was cut."""
    text = orjson.dumps(body).decode()
    if len(text) <= MAX_RESPONSE_CHARS:
        return body, None
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        data = body["data"]
        kept: list[Any] = []
        size = 0
        for item in data:
            size += len(orjson.dumps(item))
            if size > MAX_RESPONSE_CHARS:
                break
            kept.append(item)
        return {**body, "data": kept}, (
            f"showing {len(kept)} of {len(data)} records on this page; ask for a smaller pageSize"
        )
    return {"text": text[:MAX_RESPONSE_CHARS]}, "the response was cut to fit"


@tool("call_st_api", read_only=False, destructive=True, open_world=True, title="Call the ST API")
def call_st_api(context: ToolContext, params: CallStApiInput) -> dict[str, Any]:
    """Call the ServiceTitan API directly, for what no dedicated tool covers.

    Any GET is allowed (e.g. module 'jpm', path 'jobs/123'; list endpoints take params
    page, pageSize, modifiedOnOrAfter...). Writes are limited to an allow-list: job creation and
    notes, appointment creation and rescheduling, customer notes, estimate items, selling or
    dismissing an estimate, dispatch capacity and technician assignment. Prefer the dedicated
    tools, which validate input and explain mistakes. A write is reflected in the warehouse.
    """
    module = params.module.strip().lower()
    module = "sales" if module == "salestech" else module
    if module not in MODULES:
        raise ToolInputError(f"unknown module {params.module!r}; use one of {', '.join(MODULES)}")
    path = params.path.strip().strip("/")
    if not _PATH.fullmatch(path) or ".." in path or "//" in path:
        raise ToolInputError(
            "path must be relative to the tenant (e.g. 'jobs/123'), letters, digits, '-', '/'"
        )
    tenant_id = context.tenant(params.tenant_id)
    with context.servicetitan(tenant_id) as client:
        if params.method == "GET":
            body = client.get(module, path, params=params.params or None)
            shown, note = _shorten(body)
            answer: dict[str, Any] = {"status": "ok", "response": shown}
            if note:
                answer["note"] = note
            return answer
        entities = _allowed_write(params.method, module, path)
        if entities is None:
            allowed = "; ".join(f"{m} {mod}/{p.pattern}" for m, mod, p, _ in WRITE_ALLOW_LIST)
            raise ToolInputError(
                f"{params.method} {module}/{path} is not on the write allow-list ({allowed})"
            )
        if params.params:
            raise ToolInputError("writes take a JSON body, not query parameters")
        call = {"POST": client.post, "PUT": client.put, "PATCH": client.patch}[params.method]
        body = call(module, path, json=params.body or {})
        warehouse = writeback.reflect(context, client, tenant_id, resync=entities)
    return {"status": "ok", "response": body, "warehouse": warehouse}


# --- jobs -------------------------------------------------------------------------------------


class AppointmentWindow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: AwareDatetime = Field(
        description="Start, ISO 8601 with offset (2026-12-03T09:00-07:00)."
    )
    end: AwareDatetime | None = Field(
        None, description="End; defaults to start plus the job type's duration (or 2 hours)."
    )
    technicians: list[int | str] = Field(
        default_factory=list, description="Technician ids or names to assign (optional)."
    )


class CreateJobInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: int | None = Field(None, description="ServiceTitan customer id.")
    customer_name: str | None = Field(None, description="Customer name (if no id).")
    customer_phone: str | None = Field(None, description="Customer phone, any format (if no id).")
    location_id: int | None = Field(
        None, description="Service location; defaults to the customer's only location."
    )
    job_type: int | str = Field(description="Job type id or name, e.g. 'Pool Equipment Repair'.")
    business_unit: int | str | None = Field(
        None, description="Business unit id or name; defaults to the job type's."
    )
    campaign: int | str = Field(description="Marketing campaign id or name (how they found us).")
    summary: str = Field(description="What the customer needs, for the technician.", min_length=3)
    priority: Literal["Low", "Normal", "High", "Urgent"] = "Normal"
    appointment: AppointmentWindow = Field(description="The first appointment.")
    tenant_id: int | None = None

    @model_validator(mode="after")
    def _customer_given(self) -> CreateJobInput:
        if not (self.customer_id or self.customer_name or self.customer_phone):
            raise ValueError("give customer_id, customer_name or customer_phone")
        return self


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def check_technicians_free(
    conn: sa.Connection,
    tenant_id: int,
    technician_ids: list[int],
    start: datetime,
    end: datetime,
    ignore_appointment: int | None = None,
) -> None:
    """Refuse a booking that overlaps another live appointment of the same technician."""
    if not technician_ids:
        return
    clashes = lookup.rows(
        conn,
        """select a.id, a.job_id, a.start_on, a.end_on, s.technician_id,
                  coalesce(t.name, s.technician_name) as technician_name
           from servicetitan.st_appointments a
           join servicetitan.st_appointment_assignments s
             on s.tenant_id = a.tenant_id and s.appointment_id = a.id
           left join servicetitan.st_technicians t
             on t.tenant_id = s.tenant_id and t.id = s.technician_id
           where a.tenant_id = :tenant and a.deleted_at is null and s.deleted_at is null
             and coalesce(s.active, true) and coalesce(a.active, true)
             and a.status <> all(:closed)
             and s.technician_id = any(:techs)
             and a.start_on < :end and a.end_on > :start
             and a.id is distinct from :ignore
           order by a.start_on limit 5""",
        tenant=tenant_id,
        techs=technician_ids,
        start=start,
        end=end,
        ignore=ignore_appointment,
        closed=list(AppointmentStatus.CLOSED),
    )
    if clashes:
        described = "; ".join(
            f"{c['technician_name'] or c['technician_id']} has appointment {c['id']} "
            f"(job {c['job_id']}) {c['start_on']:%Y-%m-%d %H:%M}-{c['end_on']:%H:%M} UTC"
            for c in clashes
        )
        raise ConflictError(
            f"the appointment overlaps: {described}. Pick another time or technician "
            "(find_next_available_slot helps)"
        )


def check_future(start: datetime, end: datetime) -> None:
    if end <= start:
        raise ToolInputError("the appointment must end after it starts")
    if start < datetime.now(UTC) - timedelta(minutes=5):
        raise ToolInputError(f"{_iso(start)} is in the past; appointments are booked ahead")


@tool("create_job", read_only=False, open_world=True, title="Book a job")
def create_job(context: ToolContext, params: CreateJobInput) -> dict[str, Any]:
    """Book a new job in ServiceTitan with its first appointment.

    The customer is found by id, name or phone (ask for the id when several match); job type,
    business unit, campaign and technicians may be given by name. Refuses, without booking
    anything, when a reference is unknown or a technician is already booked at that time.
    Returns the new job with its id and number; the warehouse is updated at once.
    """
    tenant_id = context.tenant(params.tenant_id)
    window = params.appointment
    with context.engine.connect() as conn:
        customer = lookup.resolve_customer(
            conn,
            tenant_id,
            customer_id=params.customer_id,
            name=params.customer_name,
            phone=params.customer_phone,
        )
        if customer["do_not_service"]:
            raise ConflictError(f"customer {customer['id']} is flagged do-not-service")
        locations = lookup.locations_of(conn, tenant_id, customer["id"])
        location = _pick_location(customer, locations, params.location_id)
        job_type = lookup.resolve(conn, tenant_id, lookup.JOB_TYPES, params.job_type)
        unit_ref = params.business_unit or _default_unit(job_type)
        if unit_ref is None:
            raise ToolInputError(f"job type {job_type['name']} has no default business unit")
        unit = lookup.resolve(conn, tenant_id, lookup.BUSINESS_UNITS, unit_ref)
        campaign = lookup.resolve(conn, tenant_id, lookup.CAMPAIGNS, params.campaign)
        technicians = [
            lookup.resolve(conn, tenant_id, lookup.TECHNICIANS, t) for t in window.technicians
        ]
        duration = int((job_type["raw"] or {}).get("duration") or 7200)
        end = window.end or window.start + timedelta(seconds=duration)
        check_future(window.start, end)
        check_technicians_free(conn, tenant_id, [t["id"] for t in technicians], window.start, end)
    appointment: dict[str, Any] = {
        "start": _iso(window.start),
        "end": _iso(end),
        "arrivalWindowStart": _iso(window.start),
        "arrivalWindowEnd": _iso(end),
    }
    if technicians:
        appointment["technicianIds"] = [t["id"] for t in technicians]
    body = {
        "customerId": customer["id"],
        "locationId": location["id"],
        "businessUnitId": unit["id"],
        "jobTypeId": job_type["id"],
        "priority": params.priority,
        "campaignId": campaign["id"],
        "summary": params.summary,
        "appointments": [appointment],
    }
    with context.servicetitan(tenant_id) as client:
        job = client.post("jpm", "jobs", json=body)
        warehouse = writeback.reflect(
            context,
            client,
            tenant_id,
            entity="jobs",
            record=job,
            resync=("appointments", "appointment_assignments"),
        )
    return {
        "job_id": job.get("id"),
        "job_number": job.get("jobNumber"),
        "status": job.get("jobStatus"),
        "customer": {"id": customer["id"], "name": customer["name"]},
        "location": location,
        "job_type": job_type["name"],
        "business_unit": unit["name"],
        "campaign": campaign["name"],
        "appointment": {
            "id": job.get("firstAppointmentId"),
            "start": appointment["start"],
            "end": appointment["end"],
            "technicians": [t["name"] for t in technicians],
        },
        "warehouse": warehouse,
    }


def _pick_location(
    customer: dict[str, Any], locations: list[dict[str, Any]], location_id: int | None
) -> dict[str, Any]:
    if location_id is not None:
        for location in locations:
            if location["id"] == location_id:
                return location
        raise NotFoundError(
            f"location {location_id} is not an active location of customer {customer['id']}; "
            f"theirs: {', '.join(str(loc['id']) + ' ' + loc['address'] for loc in locations)}"
        )
    if not locations:
        raise ToolInputError(f"customer {customer['id']} has no active service location")
    if len(locations) > 1:
        listing = "; ".join(f"{loc['id']} {loc['address']}" for loc in locations)
        raise ToolInputError(
            f"customer {customer['id']} has several locations ({listing}); pass location_id"
        )
    return locations[0]


def _default_unit(job_type: dict[str, Any]) -> int | None:
    units = (job_type["raw"] or {}).get("businessUnitIds") or []
    return units[0] if units else None


class JobIdInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_id: int = Field(description="ServiceTitan job id.")
    tenant_id: int | None = None


def job_details(conn: sa.Connection, tenant_id: int, job_id: int) -> dict[str, Any] | None:
    """A job with the names behind its ids, its appointments, estimates and invoice."""
    found = lookup.rows(
        conn,
        """select j.id, j.job_number, j.job_status, j.priority, j.raw ->> 'summary' as summary,
                  j.customer_id, c.name as customer_name, j.location_id,
                  concat_ws(', ', l.street, l.city, l.state, l.zip) as location_address,
                  jt.name as job_type, bu.name as business_unit, cp.name as campaign,
                  j.total, j.invoice_id, j.created_on, j.completed_on, j.modified_on
           from servicetitan.st_jobs j
           left join servicetitan.st_customers c
             on c.tenant_id = j.tenant_id and c.id = j.customer_id
           left join servicetitan.st_locations l
             on l.tenant_id = j.tenant_id and l.id = j.location_id
           left join servicetitan.st_job_types jt
             on jt.tenant_id = j.tenant_id and jt.id = j.job_type_id
           left join servicetitan.st_business_units bu
             on bu.tenant_id = j.tenant_id and bu.id = j.business_unit_id
           left join servicetitan.st_campaigns cp
             on cp.tenant_id = j.tenant_id and cp.id = j.campaign_id
           where j.tenant_id = :tenant and j.id = :job and j.deleted_at is null""",
        tenant=tenant_id,
        job=job_id,
    )
    if not found:
        return None
    job = found[0]
    job["appointments"] = lookup.rows(
        conn,
        """select a.id, a.appointment_number, a.status, a.start_on, a.end_on,
                  coalesce(array_agg(coalesce(t.name, s.technician_name) order by t.name)
                           filter (where s.id is not null), '{}') as technicians
           from servicetitan.st_appointments a
           left join servicetitan.st_appointment_assignments s
             on s.tenant_id = a.tenant_id and s.appointment_id = a.id
            and s.deleted_at is null and coalesce(s.active, true)
           left join servicetitan.st_technicians t
             on t.tenant_id = s.tenant_id and t.id = s.technician_id
           where a.tenant_id = :tenant and a.job_id = :job and a.deleted_at is null
           group by a.tenant_id, a.id order by a.start_on""",
        tenant=tenant_id,
        job=job_id,
    )
    job["estimates"] = lookup.rows(
        conn,
        """select id, name, status, subtotal, sold_on from servicetitan.st_estimates
           where tenant_id = :tenant and job_id = :job and deleted_at is null order by id""",
        tenant=tenant_id,
        job=job_id,
    )
    job["invoice"] = (
        lookup.rows(
            conn,
            """select id, reference_number, total,
                      servicetitan.invoice_balance_due(tenant_id, customer_id, id, total, balance)
                        as balance,
                      invoice_date, due_date, paid_on
               from servicetitan.st_invoices
               where tenant_id = :tenant and job_id = :job and deleted_at is null
               order by id desc limit 1""",
            tenant=tenant_id,
            job=job_id,
        )
        or [None]
    )[0]
    return job


@tool("get_job", read_only=True, idempotent=True, title="Get a job")
def get_job(context: ToolContext, params: JobIdInput) -> dict[str, Any]:
    """A job with its customer, location, type, status, appointments (with technicians),
    estimates and invoice. Reads the warehouse; a job not synced yet is fetched from
    ServiceTitan."""
    tenant_id = context.tenant(params.tenant_id)
    with context.engine.connect() as conn:
        job = job_details(conn, tenant_id, params.job_id)
    if job is None and writeback.fetch(context, tenant_id, "jobs", "jpm", f"jobs/{params.job_id}"):
        with context.engine.connect() as conn:
            job = job_details(conn, tenant_id, params.job_id)
    if job is None:
        raise NotFoundError(f"job {params.job_id} does not exist")
    return job


class AddJobNoteInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_id: int = Field(description="ServiceTitan job id.")
    text: str = Field(description="The note.", min_length=1, max_length=4000)
    pin_to_top: bool = Field(False, description="Pin the note above the others.")
    tenant_id: int | None = None


@tool("add_job_note", read_only=False, open_world=True, title="Add a note to a job")
def add_job_note(context: ToolContext, params: AddJobNoteInput) -> dict[str, Any]:
    """Add a note to a ServiceTitan job (visible to the office and the technicians)."""
    if not params.text.strip():
        raise ToolInputError("the note is empty")
    tenant_id = context.tenant(params.tenant_id)
    with context.engine.connect() as conn:
        known = lookup.rows(
            conn,
            "select id from servicetitan.st_jobs where tenant_id = :t and id = :j",
            t=tenant_id,
            j=params.job_id,
        )
    if not known:
        raise NotFoundError(f"job {params.job_id} does not exist; find it with search_jobs")
    with context.servicetitan(tenant_id) as client:
        note = client.post(
            "jpm",
            f"jobs/{params.job_id}/notes",
            json={"text": params.text, "pinToTop": params.pin_to_top},
        )
        warehouse = writeback.reflect(context, client, tenant_id, resync=("jobs",))
    return {"job_id": params.job_id, "note": note, "warehouse": warehouse}


class SearchJobsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: int | None = None
    customer: str | None = Field(None, description="Customer name or phone.")
    status: str | None = Field(
        None, description="Scheduled, Dispatched, InProgress, Hold, Completed or Canceled."
    )
    job_type: int | str | None = Field(None, description="Job type id or name.")
    business_unit: int | str | None = Field(None, description="Business unit id or name.")
    technician: int | str | None = Field(None, description="Technician id or name.")
    text: str | None = Field(None, description="Words to find in the job summary.")
    created_from: AwareDatetime | None = None
    created_to: AwareDatetime | None = None
    limit: int = Field(25, ge=1, le=200)
    tenant_id: int | None = None


@tool("search_jobs", read_only=True, idempotent=True, title="Search jobs")
def search_jobs(context: ToolContext, params: SearchJobsInput) -> dict[str, Any]:
    """Find jobs by customer (id, name or phone), status, job type, business unit,
    technician, words in the summary and creation date; newest first."""
    tenant_id = context.tenant(params.tenant_id)
    clauses = ["j.tenant_id = :tenant", "j.deleted_at is null"]
    values: dict[str, Any] = {"tenant": tenant_id, "limit": params.limit}
    with context.engine.connect() as conn:
        if params.customer_id is not None or params.customer:
            ids = _customer_ids(conn, tenant_id, params.customer_id, params.customer)
            clauses.append("j.customer_id = any(:customers)")
            values["customers"] = ids
        if params.status:
            clauses.append("lower(j.job_status) = lower(:status)")
            values["status"] = params.status
        if params.job_type is not None:
            values["job_type"] = lookup.resolve(conn, tenant_id, lookup.JOB_TYPES, params.job_type)[
                "id"
            ]
            clauses.append("j.job_type_id = :job_type")
        if params.business_unit is not None:
            values["unit"] = lookup.resolve(
                conn, tenant_id, lookup.BUSINESS_UNITS, params.business_unit
            )["id"]
            clauses.append("j.business_unit_id = :unit")
        if params.technician is not None:
            values["tech"] = lookup.resolve(conn, tenant_id, lookup.TECHNICIANS, params.technician)[
                "id"
            ]
            clauses.append(
                """exists (select 1 from servicetitan.st_appointment_assignments s
                   where s.tenant_id = j.tenant_id and s.job_id = j.id
                     and s.technician_id = :tech and s.deleted_at is null)"""
            )
        if params.text:
            for n, word in enumerate(params.text.split()):
                clauses.append(f"j.raw ->> 'summary' ilike :word{n}")
                values[f"word{n}"] = f"%{lookup.like_pattern(word)}%"
        if params.created_from:
            clauses.append("j.created_on >= :created_from")
            values["created_from"] = params.created_from
        if params.created_to:
            clauses.append("j.created_on < :created_to")
            values["created_to"] = params.created_to
        jobs = lookup.rows(
            conn,
            f"""select j.id, j.job_number, j.job_status, j.customer_id, c.name as customer_name,
                       jt.name as job_type, j.raw ->> 'summary' as summary, j.total,
                       j.created_on, j.completed_on,
                       (select min(a.start_on) from servicetitan.st_appointments a
                        where a.tenant_id = j.tenant_id and a.job_id = j.id
                          and a.deleted_at is null) as first_appointment
                from servicetitan.st_jobs j
                left join servicetitan.st_customers c
                  on c.tenant_id = j.tenant_id and c.id = j.customer_id
                left join servicetitan.st_job_types jt
                  on jt.tenant_id = j.tenant_id and jt.id = j.job_type_id
                where {" and ".join(clauses)}
                order by j.created_on desc nulls last, j.id desc
                limit :limit""",
            **values,
        )
    return {"jobs": jobs, "count": len(jobs), "limit_reached": len(jobs) == params.limit}


def _customer_ids(
    conn: sa.Connection, tenant_id: int, customer_id: int | None, customer: str | None
) -> list[int]:
    if customer_id is not None:
        return [customer_id]
    assert customer is not None
    digits = re.sub(r"\D", "", customer)
    if len(digits) >= 7 and len(digits) >= len(customer.replace(" ", "")) - 6:
        found = lookup.find_customers(conn, tenant_id, phone=customer, limit=20)
    else:
        found = lookup.find_customers(conn, tenant_id, name=customer, limit=20)
    if not found:
        raise NotFoundError(f"no customer matches {customer!r}")
    return [c["id"] for c in found]
