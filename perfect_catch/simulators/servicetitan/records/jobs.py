"""Jobs, their appointments, and the technicians assigned to them (ST's jpm and dispatch)."""

from __future__ import annotations

from perfect_catch.simulators.servicetitan import catalog as cat
from perfect_catch.simulators.servicetitan.records.amounts import invoice_total_cents
from perfect_catch.simulators.servicetitan.records.company import technician_name
from perfect_catch.simulators.servicetitan.records.shared import Record, hot_counts
from perfect_catch.simulators.servicetitan.timefmt import (
    TICKS_PER_DAY,
    TICKS_PER_HOUR,
    format_ticks,
)
from perfect_catch.simulators.servicetitan.universe import ID_BASE, Universe

# Id bases `job` adds an index to, rather than call `u.id_of`.
_ID_JOBS, _ID_CUSTOMERS, _ID_LOCATIONS = ID_BASE["jobs"], ID_BASE["customers"], ID_BASE["locations"]
_ID_APPOINTMENTS, _ID_INVOICES = ID_BASE["appointments"], ID_BASE["invoices"]
_ID_ESTIMATES, _ID_EMPLOYEES = ID_BASE["estimates"], ID_BASE["employees"]
_ID_BUSINESS_UNITS, _ID_JOB_TYPES = ID_BASE["business-units"], ID_BASE["job-types"]
_ID_CAMPAIGNS, _ID_TECHNICIANS = ID_BASE["campaigns"], ID_BASE["technicians"]

_OPEN_JOB_STATUSES = ("Scheduled", "Scheduled", "Dispatched", "InProgress", "Hold")


def job_status(u: Universe, i: int) -> str:
    h = u.bits("jobs", i, 3)
    if u.recency("jobs", i) > 0.98:
        return _OPEN_JOB_STATUSES[h % 5]
    return "Canceled" if h % 100 < 7 else "Completed"


def job_number(job_id: int) -> str:
    return str(job_id - 40_000_000 + 10_250)


def job_type_index(u: Universe, job_index: int) -> int:
    return u.bits("jobs", job_index) % len(cat.JOB_TYPES)


_N_JOB_TYPES, _N_NOTES = len(cat.JOB_TYPES), len(cat.CUSTOMER_NOTES)
_N_CAMPAIGNS = len(cat.CAMPAIGNS)
# Per job type: the summary prefix and the fields fixed by the type.
_JOB_TYPE_PARTS = tuple(
    (f"{name} - ", _ID_BUSINESS_UNITS + bu, _ID_JOB_TYPES + jt, priority, name == "Warranty Call")
    for jt, (name, bu, _, priority) in enumerate(cat.JOB_TYPES)
)
_JOB_SUMMARIES = tuple(
    tuple(f"{prefix}{note}" for note in cat.CUSTOMER_NOTES) for prefix, *_ in _JOB_TYPE_PARTS
)


def job(u: Universe, i: int) -> Record:
    # Same values as the plain calls (`u.parent`, `u.children`, `u.id_of`, `job_status`,
    # `invoice_total_cents`), with their arithmetic inlined: this is the hottest generator.
    n_jobs, n_customers, n_locations, n_appointments, n_invoices, n_estimates, _ = hot_counts(u)
    h = u.bits("jobs", i)
    jt = h % _N_JOB_TYPES
    h //= _N_JOB_TYPES
    modified_t = u.modified_ticks("jobs", i)
    created_t = u.created_ticks("jobs", i, modified_t)
    customer_index = i * n_customers // n_jobs
    first_appointment = -(-i * n_appointments // n_jobs)
    appointment_count = -(-(i + 1) * n_appointments // n_jobs) - first_appointment
    first_invoice = -(-i * n_invoices // n_jobs)
    has_invoice = -(-(i + 1) * n_invoices // n_jobs) > first_invoice
    first_estimate = -(-i * n_estimates // n_jobs)
    end_estimate = -(-(i + 1) * n_estimates // n_jobs)
    status_bits = u.bits("jobs", i, 3)
    if i / max(1, n_jobs) > 0.98:
        status = _OPEN_JOB_STATUSES[status_bits % 5]
    else:
        status = "Canceled" if status_bits % 100 < 7 else "Completed"
    job_id = _ID_JOBS + i
    _, bu_id, job_type_id, priority, no_charge = _JOB_TYPE_PARTS[jt]
    return {
        "summary": _JOB_SUMMARIES[jt][h % _N_NOTES],
        "customFields": [],
        "externalData": [],
        "id": job_id,
        "jobNumber": str(job_id - 40_000_000 + 10_250),
        "projectId": None,
        "customerId": _ID_CUSTOMERS + customer_index,
        "locationId": _ID_LOCATIONS + -(-customer_index * n_locations // n_customers),
        "jobStatus": status,
        "completedOn": format_ticks(created_t + (2 + (h >> 8) % 96) * TICKS_PER_HOUR)
        if status == "Completed"
        else None,
        "businessUnitId": bu_id,
        "jobTypeId": job_type_id,
        "priority": priority,
        "campaignId": _ID_CAMPAIGNS + (h >> 16) % _N_CAMPAIGNS,
        "appointmentCount": appointment_count,
        "firstAppointmentId": _ID_APPOINTMENTS + first_appointment,
        "lastAppointmentId": _ID_APPOINTMENTS + first_appointment + appointment_count - 1,
        "recallForId": None,
        "warrantyId": None,
        "jobGeneratedLeadSource": None,
        "noCharge": no_charge,
        "notificationsEnabled": True,
        "createdOn": format_ticks(created_t),
        "createdById": _ID_EMPLOYEES + (h >> 24) % 6,
        "modifiedOn": format_ticks(modified_t),
        "tagTypeIds": [],
        "leadCallId": None,
        "partnerLeadCallId": None,
        "bookingId": None,
        "soldById": _ID_TECHNICIANS + (h >> 32) % 14 if h >> 40 & 3 == 0 else None,
        "customerPo": "",
        "invoiceId": _ID_INVOICES + first_invoice if has_invoice else 0,
        "membershipId": None,
        "total": invoice_total_cents(u, first_invoice) / 100 if has_invoice else None,
        "createdFromEstimateId": None,
        "estimateIds": list(range(_ID_ESTIMATES + first_estimate, _ID_ESTIMATES + end_estimate)),
        "active": True,
    }


_APPOINTMENT_STATUS = {"Completed": "Done", "InProgress": "Working"}
_ASSIGNMENT_STATUS = {"Completed": "Done", "InProgress": "Working", "Dispatched": "Dispatched"}


def _appointment_start(u: Universe, job_index: int, h: int) -> int:
    return u.created_ticks("jobs", job_index) // TICKS_PER_DAY * TICKS_PER_DAY + (
        (1 + h % 10) * TICKS_PER_DAY + (14 + 2 * (h >> 4) % 5) * TICKS_PER_HOUR
    )


def assignment_technician_index(u: Universe, i: int) -> int:
    """Technician index of base assignment `i` (of base appointment `i`)."""
    return u.bits("appointment-assignments", i) % 14


def base_booking(u: Universe, i: int) -> tuple[int, int, int] | None:
    """(start, end, technician id) of base appointment `i` as its base records have it, or None
    when it is canceled: what a schedule needs, without building two records."""
    job_index = u.parent("appointments", "jobs", i)
    if job_status(u, job_index) == "Canceled":
        return None
    start = _appointment_start(u, job_index, u.bits("appointments", i))
    return (
        start,
        start + 2 * TICKS_PER_HOUR,
        u.id_of("technicians", assignment_technician_index(u, i)),
    )


def appointment(u: Universe, i: int) -> Record:
    h = u.bits("appointments", i)
    modified_t = u.modified_ticks("appointments", i)
    job_index = u.parent("appointments", "jobs", i)
    job_id = u.id_of("jobs", job_index)
    start = _appointment_start(u, job_index, h)
    status = job_status(u, job_index)
    sequence = i - u.children("jobs", "appointments", job_index).start + 1
    return {
        "id": u.id_of("appointments", i),
        "jobId": job_id,
        "appointmentNumber": f"{job_number(job_id)}-{sequence}",
        "start": format_ticks(start),
        "end": format_ticks(start + 2 * TICKS_PER_HOUR),
        "arrivalWindowStart": format_ticks(start),
        "arrivalWindowEnd": format_ticks(start + 4 * TICKS_PER_HOUR),
        "status": _APPOINTMENT_STATUS.get(status, status),
        "specialInstructions": cat.CUSTOMER_NOTES[(h >> 8) % len(cat.CUSTOMER_NOTES)]
        if h >> 16 & 3 == 0
        else None,
        "createdOn": format_ticks(u.created_ticks("appointments", i, modified_t)),
        "modifiedOn": format_ticks(modified_t),
        "customerId": u.id_of("customers", u.parent("jobs", "customers", job_index)),
        "unused": False,
        "createdById": u.id_of("employees", (h >> 20) % 6),
        "isConfirmed": status != "Scheduled",
        "active": status != "Canceled",
    }


def appointment_assignment(u: Universe, i: int) -> Record:
    modified_t = u.modified_ticks("appointment-assignments", i)
    created = format_ticks(u.created_ticks("appointment-assignments", i, modified_t))
    job_index = u.parent("appointments", "jobs", i)
    tech = assignment_technician_index(u, i)
    status = job_status(u, job_index)
    return {
        "id": u.id_of("appointment-assignments", i),
        "technicianId": u.id_of("technicians", tech),
        "technicianName": technician_name(u, tech),
        "assignedById": u.id_of("employees", 1),
        "assignedOn": created,
        "status": _ASSIGNMENT_STATUS.get(status, "Scheduled"),
        "isPaused": False,
        "jobId": u.id_of("jobs", job_index),
        "appointmentId": u.id_of("appointments", i),
        "createdOn": created,
        "modifiedOn": format_ticks(modified_t),
        "active": status != "Canceled",
    }
