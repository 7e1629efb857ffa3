"""Technicians' time: appointments, their assignments, double-booking refusal and capacity.

A technician is busy exactly while an active appointment they are actively assigned to runs,
so booking, rescheduling, assigning and the capacity endpoint all read one source. Base
appointments are found without scanning the tenant: an appointment starts between 21 days
before and 11 days after its job's modifiedOn, and job modifiedOn grows with the job index,
so a bisection over jobs bounds the appointments that can overlap a window; `Schedule` keeps
them, and every changed or created appointment, indexed by day.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

from perfect_catch.simulators.servicetitan.records import (
    Record,
    assignment_technician_index,
    base_booking,
)
from perfect_catch.simulators.servicetitan.refusals import Conflict, Invalid, invalid
from perfect_catch.simulators.servicetitan.timefmt import (
    TICKS_PER_DAY,
    TICKS_PER_SECOND,
    format_ticks,
    parse_instant,
)

if TYPE_CHECKING:
    from perfect_catch.simulators.servicetitan.mutations import Mutator
    from perfect_catch.simulators.servicetitan.store import TenantStore
    from perfect_catch.simulators.servicetitan.universe import Universe

HOUR = 3600 * TICKS_PER_SECOND
SLOT_HOURS = (14, 16, 18, 20)
CLOSED_APPOINTMENTS = ("Done", "Canceled")
_BEFORE_JOB = 22 * TICKS_PER_DAY
_AFTER_JOB = 12 * TICKS_PER_DAY
_LONGEST_BASE_APPOINTMENT = 2 * HOUR
# (start, end, appointment id) of one booking.
Booking = tuple[int, int, int]


# --- reading the schedule ---------------------------------------------------------------------


def _base_candidates(u: Universe, start: int, end: int) -> range:
    """Indexes of the base appointments that may overlap [start, end)."""
    jobs = range(u.counts["jobs"])

    def modified(j: int) -> int:
        return u.modified_ticks("jobs", j)

    low = bisect.bisect_left(jobs, start - _LONGEST_BASE_APPOINTMENT - _AFTER_JOB, key=modified)
    high = bisect.bisect_right(jobs, end + _BEFORE_JOB, key=modified)
    if low >= high:
        return range(0)
    return range(
        u.children("jobs", "appointments", low).start,
        u.children("jobs", "appointments", high - 1).stop,
    )


def _window(appointment: Record) -> tuple[int, int] | None:
    try:
        return parse_instant(appointment["start"]), parse_instant(appointment["end"])
    except (KeyError, TypeError, ValueError):
        return None


def is_live(appointment: Record) -> bool:
    return appointment.get("active") is True and appointment.get("status") != "Canceled"


class Schedule:
    """Live appointment windows by day, kept current from the store's change log.

    Base appointments of a day are generated once; changed or created appointments are
    re-indexed when the store records a new version of them (the clock only moves forward, so
    the changes since the last look are the overlay keys from the last instant seen on). A
    check is then a walk over one or a few days, whatever the tenant's size or age.
    """

    def __init__(self, store: TenantStore) -> None:
        self.store = store
        self._base: dict[int, list[Booking]] = {}
        self._changed: dict[int, Booking | None] = {}
        self._by_day: dict[int, set[int]] = {}
        self._seen = -(1 << 62)
        self._technicians: tuple[int, list[int]] = (-1, [])

    def active_technicians(self) -> list[int]:
        """Ids of active technicians, re-read only when a technician record changes."""
        version = self.store.version("technicians")
        if self._technicians[0] != version:
            u = self.store.universe
            ids = (u.id_of("technicians", i) for i in range(u.counts["technicians"]))
            active = [t for t in ids if (self.store.get("technicians", t) or {}).get("active")]
            self._technicians = (version, active)
        return self._technicians[1]

    def _sync(self) -> None:
        for ticks, appointment_id in self.store.changes_since("appointments", self._seen):
            self._reindex(appointment_id)
            self._seen = max(self._seen, ticks)

    def _reindex(self, appointment_id: int) -> None:
        old = self._changed.get(appointment_id)
        if old is not None:
            for day in _days(old[0], old[1]):
                self._by_day[day].discard(appointment_id)
        record = self.store.get("appointments", appointment_id)
        window = _window(record) if record is not None and is_live(record) else None
        if window is None or window[1] <= window[0]:
            self._changed[appointment_id] = None
            return
        self._changed[appointment_id] = (*window, appointment_id)
        for day in _days(*window):
            self._by_day.setdefault(day, set()).add(appointment_id)

    def _base_day(self, day: int) -> list[Booking]:
        cached = self._base.get(day)
        if cached is None:
            u = self.store.universe
            low, high = day * TICKS_PER_DAY, (day + 1) * TICKS_PER_DAY
            cached = []
            for index in _base_candidates(u, low, high):
                booked = base_booking(u, index)
                if booked is not None and booked[0] < high and low < booked[1]:
                    cached.append((booked[0], booked[1], u.id_of("appointments", index)))
            self._base[day] = cached
        return cached

    def overlapping(self, start: int, end: int) -> list[Booking]:
        """Live appointments that overlap [start, end), in id order."""
        self._sync()
        found: dict[int, Booking] = {}
        for day in _days(start, end):
            for booking in self._base_day(day):
                if booking[2] not in self._changed and booking[0] < end and start < booking[1]:
                    found[booking[2]] = booking
            for appointment_id in self._by_day.get(day, ()):
                booking = self._changed[appointment_id]
                if booking is not None and booking[0] < end and start < booking[1]:
                    found[appointment_id] = booking
        return [found[i] for i in sorted(found)]


def _days(start: int, end: int) -> range:
    return range(start // TICKS_PER_DAY, (end - 1) // TICKS_PER_DAY + 1)


def assignments_of(m: Mutator, appointment_id: int) -> list[Record]:
    """Current assignment records of an appointment, active or not."""
    u = m.u
    ids = list(m.assignments_by_appointment.get(appointment_id, []))
    if u.is_base("appointments", appointment_id):
        index = u.index_of("appointments", appointment_id)
        ids.insert(0, u.id_of("appointment-assignments", index))
    records = (m.store.get("appointment-assignments", i) for i in ids)
    return [r for r in records if r is not None and r.get("appointmentId") == appointment_id]


def technicians_of(m: Mutator, appointment_id: int) -> list[int]:
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


def bookings(m: Mutator, start: int, end: int) -> dict[int, list[Booking]]:
    """Each technician's bookings that overlap [start, end)."""
    busy: dict[int, list[Booking]] = {}
    for booking in m.schedule.overlapping(start, end):
        for technician_id in technicians_of(m, booking[2]):
            busy.setdefault(technician_id, []).append(booking)
    return busy


def technician_name(m: Mutator, technician_id: int) -> str | None:
    technician = m.store.get("technicians", technician_id)
    return technician.get("name") if technician else None


def check_free(
    m: Mutator,
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


def free_technician(m: Mutator, start: int, end: int, first_choice: int) -> int | None:
    """An active technician with nothing booked in [start, end), starting from `first_choice`."""
    busy = bookings(m, start, end)
    candidates = active_technicians(m)
    for offset in range(len(candidates)):
        technician_id = candidates[(first_choice + offset) % len(candidates)]
        if technician_id not in busy:
            return technician_id
    return None


def active_technicians(m: Mutator) -> list[int]:
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


def technician_ids(m: Mutator, value: Any, field: str = "technicianIds") -> list[int]:
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


def new_assignment(m: Mutator, appointment: Record, technician_id: int) -> Record:
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


def book_appointment(m: Mutator, body: dict[str, Any]) -> Record:
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
    return m.add_appointment(
        job,
        start,
        end,
        technicians,
        arrival=(window_start, window_end),
        instructions=instructions,
    )


def reschedule(m: Mutator, appointment_id: int, body: dict[str, Any]) -> Record:
    """PATCH jpm/v2/tenant/{t}/appointments/{id}/reschedule, refusing double bookings.

    Every field of `AppointmentRescheduleRequest` is optional: what is left out is kept.
    """
    record = m.require("appointments", appointment_id)
    current = _window(record)
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


def _assignment_request(m: Mutator, body: dict[str, Any]) -> tuple[Record, list[int]]:
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


def assign_technicians(m: Mutator, body: dict[str, Any]) -> Record:
    """POST dispatch/v2/tenant/{t}/appointment-assignments/assign-technicians."""
    appointment, technicians = _assignment_request(m, body)
    current = set(technicians_of(m, appointment["id"]))
    added = [t for t in technicians if t not in current]
    window = _window(appointment)
    if window is not None:
        check_free(m, added, *window, "technicianIds", ignore=appointment["id"])
    for technician_id in added:
        new_assignment(m, appointment, technician_id)
    return dispatch_view(appointment)


def unassign_technicians(m: Mutator, body: dict[str, Any]) -> Record:
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


def capacity(m: Mutator, body: dict[str, Any]) -> Record:
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
            slot = day + hour * HOUR
            if slot < start or slot + 2 * HOUR > end:
                continue
            booked = {
                t
                for t, windows in busy.items()
                if any(first < slot + 2 * HOUR and slot < last for first, last, _ in windows)
            }
            free = sum(1 for t, _ in technicians if t not in booked)
            availabilities.append(
                {
                    "start": format_ticks(slot),
                    "end": format_ticks(slot + 2 * HOUR),
                    "startUtc": format_ticks(slot),
                    "endUtc": format_ticks(slot + 2 * HOUR),
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
