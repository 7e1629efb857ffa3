"""Technicians' time: appointments, their assignments, double-booking refusal and capacity.

Every check reads the one `Schedule` of live appointment windows, so booking, rescheduling,
assigning and the capacity endpoint agree on who is busy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from perfect_catch.simulators.servicetitan.records.jobs import assignment_technician_index
from perfect_catch.simulators.servicetitan.records.shared import Record
from perfect_catch.simulators.servicetitan.refusals import Conflict, Invalid, invalid
from perfect_catch.simulators.servicetitan.schedule import Booking, appointment_window
from perfect_catch.simulators.servicetitan.timefmt import (
    TICKS_PER_DAY,
    TICKS_PER_HOUR,
    format_ticks,
    parse_instant,
)

if TYPE_CHECKING:
    from perfect_catch.simulators.servicetitan.writer import TenantWriter

SLOT_HOURS = (14, 16, 18, 20)
CLOSED_APPOINTMENTS = ("Done", "Canceled")


# --- who is booked ----------------------------------------------------------------------------


def assignments_of(m: TenantWriter, appointment_id: int) -> list[Record]:
    """Current assignment records of an appointment, active or not."""
    u = m.u
    ids = list(m.assignments_by_appointment.get(appointment_id, []))
    if u.is_base("appointments", appointment_id):
        index = u.index_of("appointments", appointment_id)
        ids.insert(0, u.id_of("appointment-assignments", index))
    records = (m.store.get("appointment-assignments", i) for i in ids)
    return [r for r in records if r is not None and r.get("appointmentId") == appointment_id]


def technicians_of(m: TenantWriter, appointment_id: int) -> list[int]:
    """Technicians actively assigned to an appointment.

    An unchanged base assignment is read from its draw instead of being generated: it is
    active exactly when its appointment is, and callers only ask about live appointments.
    """
    u = m.u
    found = []
    ids = list(m.assignments_by_appointment.get(appointment_id, []))
    if u.is_base("appointments", appointment_id):
        index = u.index_of("appointments", appointment_id)
        base_id = u.id_of("appointment-assignments", index)
        if m.store.changed("appointment-assignments", base_id):
            ids.insert(0, base_id)
        else:
            found.append(u.id_of("technicians", assignment_technician_index(u, index)))
    for assignment_id in ids:
        record = m.store.get("appointment-assignments", assignment_id)
        if (
            record is not None
            and record.get("appointmentId") == appointment_id
            and record.get("active") is True
            and is_id(record.get("technicianId"))
        ):
            found.append(record["technicianId"])
    return found


def bookings(m: TenantWriter, start: int, end: int) -> dict[int, list[Booking]]:
    """Each technician's bookings that overlap [start, end)."""
    busy: dict[int, list[Booking]] = {}
    for booking in m.schedule.overlapping(start, end):
        for technician_id in technicians_of(m, booking[2]):
            busy.setdefault(technician_id, []).append(booking)
    return busy


def technician_name(m: TenantWriter, technician_id: int) -> str | None:
    technician = m.store.get("technicians", technician_id)
    return technician.get("name") if technician else None


def check_free(
    m: TenantWriter,
    technician_ids: list[int],
    start: int,
    end: int,
    field: str,
    ignore: int | None = None,
    refusal: type[Invalid] = Conflict,
) -> None:
    """Refuse a booking that would put a technician in two places at once."""
    if not technician_ids:
        return
    busy = bookings(m, start, end)
    for technician_id in technician_ids:
        for first, last, appointment_id in busy.get(technician_id, []):
            if appointment_id == ignore:
                continue
            message = (
                f"Technician {technician_id} ({technician_name(m, technician_id)}) is already "
                f"booked on appointment {appointment_id} from {format_ticks(first)} to "
                f"{format_ticks(last)}."
            )
            raise refusal(message, {field: [message]})


def free_technician(m: TenantWriter, start: int, end: int, first_choice: int) -> int | None:
    """An active technician with nothing booked in [start, end), starting from `first_choice`."""
    busy = bookings(m, start, end)
    candidates = active_technicians(m)
    for offset in range(len(candidates)):
        technician_id = candidates[(first_choice + offset) % len(candidates)]
        if technician_id not in busy:
            return technician_id
    return None


def active_technicians(m: TenantWriter) -> list[int]:
    return m.schedule.active_technicians()


# --- request parsing --------------------------------------------------------------------------


def is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def instant(body: dict[str, Any], field: str, required: bool) -> int | None:
    value = body.get(field)
    if value is None:
        if required:
            raise invalid(field, f"The {field} field is required.")
        return None
    try:
        return parse_instant(value)
    except (TypeError, ValueError):
        raise invalid(field, f"The value '{value}' is not a valid date-time.") from None


def time_range(body: dict[str, Any]) -> tuple[int, int]:
    start, end = instant(body, "start", True), instant(body, "end", True)
    assert start is not None and end is not None
    if end <= start:
        raise invalid("end", "end must be after start.")
    return start, end


def technician_ids(m: TenantWriter, value: Any, field: str = "technicianIds") -> list[int]:
    """Validated, de-duplicated technician ids (unknown or inactive ones are refused)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(is_id(t) for t in value):
        raise invalid(field, f"{field} must be a list of technician ids.")
    for technician_id in value:
        technician = m.store.get("technicians", technician_id)
        if technician is None or technician.get("active") is not True:
            raise invalid(field, f"Technician {technician_id} does not exist or is inactive.")
    return list(dict.fromkeys(value))


# --- writes -----------------------------------------------------------------------------------


def new_assignment(m: TenantWriter, appointment: Record, technician_id: int) -> Record:
    """An assignment that names the technician's actual record."""
    now = format_ticks(m.store.clock.now)
    record = m.create_like(
        "appointment-assignments",
        {
            "technicianId": technician_id,
            "technicianName": technician_name(m, technician_id),
            "assignedById": m.u.id_of("employees", 1),
            "jobId": appointment["jobId"],
            "appointmentId": appointment["id"],
            "status": "Scheduled",
            "isPaused": False,
            "assignedOn": now,
        },
    )
    m.assignments_by_appointment.setdefault(appointment["id"], []).append(record["id"])
    return record


def appointments_of(m: TenantWriter, job: Record) -> list[int]:
    """Ids of a job's appointments: its base ones and those created since."""
    u = m.u
    ids = []
    if u.is_base("jobs", job["id"]):
        children = u.children("jobs", "appointments", u.index_of("jobs", job["id"]))
        ids = [u.id_of("appointments", i) for i in children]
    return ids + m.job_appointments.get(job["id"], [])


def new_appointment(
    m: TenantWriter,
    job: Record,
    appointment_id: int,
    start: int,
    end: int,
    technicians: list[int],
    arrival: tuple[int | None, int | None] = (None, None),
    instructions: str | None = None,
) -> Record:
    """Appointment `appointment_id` of `job`, with an assignment per technician."""
    index = m.u.index_of("appointments", appointment_id)
    appointment = m.store.template("appointments", index)
    now = format_ticks(m.store.clock.now)
    sequence = len(appointments_of(m, job)) + 1
    appointment.update(
        {
            "id": appointment_id,
            "jobId": job["id"],
            "customerId": job["customerId"],
            "appointmentNumber": f"{job['jobNumber']}-{sequence}",
            "start": format_ticks(start),
            "end": format_ticks(end),
            "arrivalWindowStart": format_ticks(start if arrival[0] is None else arrival[0]),
            "arrivalWindowEnd": format_ticks(end if arrival[1] is None else arrival[1]),
            "status": "Scheduled",
            "specialInstructions": instructions,
            "createdOn": now,
            "isConfirmed": False,
            "active": True,
            "unused": False,
        }
    )
    m.store.put("appointments", appointment_id, appointment)
    m.job_appointments.setdefault(job["id"], []).append(appointment_id)
    for technician_id in technicians:
        new_assignment(m, appointment, technician_id)
    return appointment


def add_appointment(
    m: TenantWriter,
    job: Record,
    start: int,
    end: int,
    technicians: list[int],
    arrival: tuple[int | None, int | None] = (None, None),
    instructions: str | None = None,
) -> Record:
    """Another visit on an existing job; the job then counts it and points at it last."""
    appointment_id = m.store.new_id("appointments")[0]
    appointment = new_appointment(
        m, job, appointment_id, start, end, technicians, arrival, instructions
    )
    m.touch(
        "jobs",
        job["id"],
        {
            "appointmentCount": len(appointments_of(m, job)),
            "lastAppointmentId": appointment_id,
        },
    )
    return appointment


def book_appointment(m: TenantWriter, body: dict[str, Any]) -> Record:
    """POST jpm/v2/tenant/{t}/appointments (`AppointmentAddRequest`)."""
    job_id = body.get("jobId")
    if not is_id(job_id):
        raise invalid("jobId", "The jobId field is required.")
    start, end = time_range(body)
    window_start = instant(body, "arrivalWindowStart", False)
    window_end = instant(body, "arrivalWindowEnd", False)
    if window_start is not None and window_end is not None and window_end < window_start:
        raise invalid("arrivalWindowEnd", "arrivalWindowEnd must not be before arrivalWindowStart.")
    instructions = body.get("specialInstructions")
    if instructions is not None and not isinstance(instructions, str):
        raise invalid("specialInstructions", "specialInstructions must be a string.")
    job = m.require("jobs", job_id, "jobId")
    if job.get("jobStatus") in ("Completed", "Canceled"):
        raise invalid("jobId", f"Job {job_id} is {job['jobStatus']}; it cannot get appointments.")
    technicians = technician_ids(m, body.get("technicianIds"))
    check_free(m, technicians, start, end, "technicianIds")
    return add_appointment(
        m,
        job,
        start,
        end,
        technicians,
        arrival=(window_start, window_end),
        instructions=instructions,
    )


def reschedule(m: TenantWriter, appointment_id: int, body: dict[str, Any]) -> Record:
    """PATCH jpm/v2/tenant/{t}/appointments/{id}/reschedule, refusing double bookings.

    Every field of `AppointmentRescheduleRequest` is optional: what is left out is kept.
    """
    record = m.require("appointments", appointment_id)
    current = appointment_window(record)
    start = instant(body, "start", current is None)
    end = instant(body, "end", current is None)
    start = current[0] if start is None and current is not None else start
    end = current[1] if end is None and current is not None else end
    assert start is not None and end is not None
    if end <= start:
        raise invalid("end", "end must be after start.")
    if record.get("status") in CLOSED_APPOINTMENTS:
        raise invalid("id", f"Appointment is {record['status']} and cannot be rescheduled.")
    window_start = instant(body, "arrivalWindowStart", False)
    window_end = instant(body, "arrivalWindowEnd", False)
    check_free(m, technicians_of(m, appointment_id), start, end, "start", ignore=appointment_id)
    return m.touch(
        "appointments",
        appointment_id,
        {
            "start": format_ticks(start),
            "end": format_ticks(end),
            "arrivalWindowStart": format_ticks(start if window_start is None else window_start),
            "arrivalWindowEnd": format_ticks(end if window_end is None else window_end),
            "status": "Scheduled",
        },
    )


def _assignment_request(m: TenantWriter, body: dict[str, Any]) -> tuple[Record, list[int]]:
    appointment_id = body.get("jobAppointmentId")
    if not is_id(appointment_id):
        raise invalid("jobAppointmentId", "The jobAppointmentId field is required.")
    if not isinstance(body.get("technicianIds"), list) or not body["technicianIds"]:
        raise invalid("technicianIds", "The technicianIds field is required.")
    appointment = m.require("appointments", appointment_id, "jobAppointmentId")
    if appointment.get("status") in CLOSED_APPOINTMENTS:
        raise invalid(
            "jobAppointmentId",
            f"Appointment {appointment_id} is {appointment['status']}; assignments are closed.",
        )
    return appointment, technician_ids(m, body["technicianIds"])


def dispatch_view(appointment: Record) -> Record:
    """The appointment as `Dispatch.V2.AppointmentResponse` shows it."""
    fields = (
        "id",
        "jobId",
        "appointmentNumber",
        "start",
        "end",
        "arrivalWindowStart",
        "arrivalWindowEnd",
        "status",
        "specialInstructions",
        "createdOn",
        "modifiedOn",
    )
    return {field: appointment.get(field) for field in fields}


def assign_technicians(m: TenantWriter, body: dict[str, Any]) -> Record:
    """POST dispatch/v2/tenant/{t}/appointment-assignments/assign-technicians."""
    appointment, technicians = _assignment_request(m, body)
    current = set(technicians_of(m, appointment["id"]))
    added = [t for t in technicians if t not in current]
    window = appointment_window(appointment)
    if window is not None:
        check_free(m, added, *window, "technicianIds", ignore=appointment["id"])
    for technician_id in added:
        new_assignment(m, appointment, technician_id)
    return dispatch_view(appointment)


def unassign_technicians(m: TenantWriter, body: dict[str, Any]) -> Record:
    """POST dispatch/v2/tenant/{t}/appointment-assignments/unassign-technicians."""
    appointment, technicians = _assignment_request(m, body)
    active = {
        a["technicianId"]: a["id"]
        for a in assignments_of(m, appointment["id"])
        if a.get("active") is True
    }
    missing = [t for t in technicians if t not in active]
    if missing:
        raise invalid(
            "technicianIds",
            f"Technicians {missing} are not assigned to appointment {appointment['id']}.",
        )
    for technician_id in technicians:
        m.touch("appointment-assignments", active[technician_id], {"active": False})
    return dispatch_view(appointment)


# --- capacity ---------------------------------------------------------------------------------


def capacity(m: TenantWriter, body: dict[str, Any]) -> Record:
    """POST dispatch/v2/tenant/{t}/capacity: two-hour slots, free unless really booked."""
    errors: dict[str, list[str]] = {}
    for field in ("startsOnOrAfter", "endsOnOrBefore"):
        if not isinstance(body.get(field), str):
            errors[field] = [f"The {field} field is required."]
    if "skillBasedAvailability" not in body:
        errors["skillBasedAvailability"] = ["The skillBasedAvailability field is required."]
    if errors:
        raise Invalid("One or more validation errors occurred.", errors)
    start = instant(body, "startsOnOrAfter", True)
    end = instant(body, "endsOnOrBefore", True)
    assert start is not None and end is not None
    if end <= start or end - start > 31 * TICKS_PER_DAY:
        raise invalid("endsOnOrBefore", "Range must be positive and at most 31 days.")
    units = body.get("businessUnitIds") or [
        m.u.id_of("business-units", i) for i in range(m.u.counts["business-units"])
    ]
    technicians = [(t, technician_name(m, t)) for t in active_technicians(m)]
    busy = bookings(m, start, end)
    availabilities = []
    day = start // TICKS_PER_DAY * TICKS_PER_DAY
    while day < end:
        for hour in SLOT_HOURS:
            slot = day + hour * TICKS_PER_HOUR
            if slot < start or slot + 2 * TICKS_PER_HOUR > end:
                continue
            booked = {
                t
                for t, windows in busy.items()
                if any(
                    first < slot + 2 * TICKS_PER_HOUR and slot < last for first, last, _ in windows
                )
            }
            free = sum(1 for t, _ in technicians if t not in booked)
            availabilities.append(
                {
                    "start": format_ticks(slot),
                    "end": format_ticks(slot + 2 * TICKS_PER_HOUR),
                    "startUtc": format_ticks(slot),
                    "endUtc": format_ticks(slot + 2 * TICKS_PER_HOUR),
                    "businessUnitIds": units,
                    "totalAvailability": 2.0 * len(technicians),
                    "openAvailability": 2.0 * free,
                    "technicians": [
                        {
                            "id": t,
                            "name": name,
                            "status": "Unavailable" if t in booked else "Available",
                            "hasRequiredSkills": True,
                        }
                        for t, name in technicians
                    ],
                    "isAvailable": free > 0,
                    "isExceedingIdealBookingPercentage": False,
                }
            )
        day += TICKS_PER_DAY
    return {"timeStamp": format_ticks(m.store.clock.now), "availabilities": availabilities}
