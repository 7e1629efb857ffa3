"""Booking writes of the simulated ServiceTitan: appointments, assignments, double-booking
refusal (409, as the spec lists for these endpoints) and capacity computed from real bookings."""

from __future__ import annotations

from typing import Any

import pytest

APPOINTMENT_FIELDS = {
    "id",
    "jobId",
    "start",
    "end",
    "status",
    "createdOn",
    "modifiedOn",
    "customerId",
    "unused",
    "createdById",
    "isConfirmed",
    "active",
}
DAY = "2026-03-02"


def at(hour: int, day: str = DAY) -> str:
    return f"{day}T{hour:02d}:00:00Z"


def _job(st, technician_id: int, start: str, end: str, customer_id: int = 10_000_030) -> dict:
    location = st.get("crm", "locations", customerId=customer_id, active="Any").json()["data"][0]
    body = {
        "customerId": customer_id,
        "locationId": location["id"],
        "businessUnitId": 3000,
        "jobTypeId": 4001,
        "campaignId": 5000,
        "appointments": [{"start": start, "end": end, "technicianIds": [technician_id]}],
    }
    created = st.request("POST", "jpm", "jobs", json=body)
    assert created.status_code == 200, created.text
    return created.json()


def _book(st, **body: Any):  # type: ignore[no-untyped-def]
    return st.request("POST", "jpm", "appointments", json=body)


def _names(server) -> dict[int, str]:  # type: ignore[no-untyped-def]
    technicians = server.system("servicetitan").store().iter_by_id("technicians")
    return {t["id"]: t["name"] for t in technicians}


def _errors(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body) == {"type", "title", "status", "traceId", "errors", "data"}
    assert body["status"] == response.status_code
    return body["errors"]


def test_book_appointment_shows_in_exports_with_technician_names(server, st) -> None:
    names = _names(server)
    _, appointments_token, _ = st.export_all("jpm", "appointments")
    _, assignments_token, _ = st.export_all("dispatch", "appointment-assignments")
    job = _job(st, 1002, at(15), at(17))
    booked = _book(
        st,
        jobId=job["id"],
        start=at(15, "2026-03-03"),
        end=at(17, "2026-03-03"),
        arrivalWindowStart=at(14, "2026-03-03"),
        arrivalWindowEnd=at(18, "2026-03-03"),
        technicianIds=[1003, 1004],
        specialInstructions="Dog in the yard",
    )
    assert booked.status_code == 200, booked.text
    appointment = booked.json()
    assert set(appointment) >= APPOINTMENT_FIELDS
    assert appointment["jobId"] == job["id"] and appointment["customerId"] == job["customerId"]
    assert appointment["arrivalWindowStart"].startswith("2026-03-03T14:00:00")
    assert appointment["specialInstructions"] == "Dog in the yard"
    assert appointment["appointmentNumber"] == f"{job['jobNumber']}-2"
    exported, _, _ = st.export_all("jpm", "appointments", start=appointments_token)
    assert [a["id"] for a in exported] == [job["firstAppointmentId"], appointment["id"]]
    assigned, _, _ = st.export_all("dispatch", "appointment-assignments", start=assignments_token)
    seen = {(a["appointmentId"], a["technicianId"], a["technicianName"]) for a in assigned}
    assert seen == {
        (job["firstAppointmentId"], 1002, names[1002]),
        (appointment["id"], 1003, names[1003]),
        (appointment["id"], 1004, names[1004]),
    }
    updated = st.get("jpm", f"jobs/{job['id']}").json()
    assert updated["appointmentCount"] == 2 and updated["lastAppointmentId"] == appointment["id"]


def test_booking_and_reschedule_refuse_double_booking(server, st) -> None:
    state = server.system("servicetitan")
    first = _job(st, 1005, at(15, "2026-03-09"), at(17, "2026-03-09"))
    second = _job(st, 1005, at(18, "2026-03-09"), at(20, "2026-03-09"))
    before = state.store().stats()
    clash = _book(
        st,
        jobId=first["id"],
        start=at(16, "2026-03-09"),
        end=at(18, "2026-03-09"),
        technicianIds=[1006, 1005],
    )
    assert clash.status_code == 409
    message = _errors(clash)["technicianIds"][0]
    assert str(first["firstAppointmentId"]) in message and "1005" in message
    moved = st.request(
        "PATCH",
        "jpm",
        f"appointments/{second['firstAppointmentId']}/reschedule",
        json={"start": at(16, "2026-03-09"), "end": at(18, "2026-03-09")},
    )
    assert moved.status_code == 409 and "start" in _errors(moved)
    assert state.store().stats() == before
    touching = _book(
        st,
        jobId=first["id"],
        start=at(17, "2026-03-09"),
        end=at(18, "2026-03-09"),
        technicianIds=[1005],
    )
    assert touching.status_code == 200, touching.text
    own_slot = st.request(
        "PATCH",
        "jpm",
        f"appointments/{second['firstAppointmentId']}/reschedule",
        json={"start": at(19, "2026-03-09"), "end": at(21, "2026-03-09")},
    )
    assert own_slot.status_code == 200, own_slot.text


def test_new_job_refuses_a_booked_technician(st) -> None:
    _job(st, 1007, at(15, "2026-03-16"), at(17, "2026-03-16"))
    location = st.get("crm", "locations", customerId=10_000_031, active="Any").json()["data"][0]
    body = {
        "customerId": 10_000_031,
        "locationId": location["id"],
        "businessUnitId": 3000,
        "jobTypeId": 4001,
        "campaignId": 5000,
        "appointments": [
            {"start": at(16, "2026-03-16"), "end": at(18, "2026-03-16"), "technicianIds": [1007]}
        ],
    }
    refused = st.request("POST", "jpm", "jobs", json=body)
    assert refused.status_code == 400
    assert "appointments[0].technicianIds" in _errors(refused)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"start": at(15), "end": at(17)}, 400, "jobId"),
        ({"jobId": "x", "start": at(15), "end": at(17)}, 400, "jobId"),
        ({"jobId": "JOB", "end": at(17)}, 400, "start"),
        ({"jobId": "JOB", "start": "soon", "end": at(17)}, 400, "start"),
        ({"jobId": "JOB", "start": at(17), "end": at(15)}, 400, "end"),
        ({"jobId": 1, "start": at(15), "end": at(17)}, 404, "jobId"),
        (
            {"jobId": "JOB", "start": at(15), "end": at(17), "technicianIds": [1]},
            400,
            "technicianIds",
        ),
        (
            {"jobId": "JOB", "start": at(15), "end": at(17), "technicianIds": [1013]},
            400,
            "technicianIds",
        ),
        ({"jobId": "DONE", "start": at(15), "end": at(17)}, 400, "jobId"),
    ],
)
def test_book_appointment_validation(server, st, body: dict, status: int, field: str) -> None:
    store = server.system("servicetitan").store()
    open_job = next(j for j in store.iter_by_id("jobs") if j["jobStatus"] == "Scheduled")
    done = next(j for j in store.iter_by_id("jobs") if j["jobStatus"] == "Completed")
    body = {**body}
    if body.get("jobId") == "JOB":
        body["jobId"] = open_job["id"]
    elif body.get("jobId") == "DONE":
        body["jobId"] = done["id"]
    response = _book(st, **body)
    assert response.status_code == status, response.text
    assert field in _errors(response)


def test_assign_and_unassign_technicians(server, st) -> None:
    names = _names(server)
    job = _job(st, 1008, at(15, "2026-03-23"), at(17, "2026-03-23"))
    other = _job(st, 1009, at(16, "2026-03-23"), at(18, "2026-03-23"))
    appointment_id = job["firstAppointmentId"]
    _, token, _ = st.export_all("dispatch", "appointment-assignments")

    def call(action: str, **body: Any):  # type: ignore[no-untyped-def]
        path = f"appointment-assignments/{action}-technicians"
        return st.request("POST", "dispatch", path, json=body)

    added = call("assign", jobAppointmentId=appointment_id, technicianIds=[1010, 1008])
    assert added.status_code == 200, added.text
    assert added.json()["id"] == appointment_id and added.json()["jobId"] == job["id"]
    exported, token, _ = st.export_all("dispatch", "appointment-assignments", start=token)
    assert [(a["technicianId"], a["technicianName"]) for a in exported] == [(1010, names[1010])]
    busy = call("assign", jobAppointmentId=appointment_id, technicianIds=[1009])
    assert busy.status_code == 409 and str(other["firstAppointmentId"]) in str(_errors(busy))
    removed = call("unassign", jobAppointmentId=appointment_id, technicianIds=[1010])
    assert removed.status_code == 200, removed.text
    exported, _, _ = st.export_all("dispatch", "appointment-assignments", start=token)
    assert [(a["technicianId"], a["active"]) for a in exported] == [(1010, False)]
    not_there = call("unassign", jobAppointmentId=appointment_id, technicianIds=[1010])
    assert not_there.status_code == 400 and "technicianIds" in _errors(not_there)
    missing = call("assign", jobAppointmentId=1, technicianIds=[1010])
    assert missing.status_code == 404 and "jobAppointmentId" in _errors(missing)
    assert "technicianIds" in _errors(call("assign", jobAppointmentId=appointment_id))
    assert "jobAppointmentId" in _errors(call("assign", technicianIds=[1010]))


def test_capacity_counts_only_real_bookings(st) -> None:
    day = "2026-04-06"
    _job(st, 1000, at(16, day), at(18, day))
    body = {
        "startsOnOrAfter": f"{day}T00:00:00Z",
        "endsOnOrBefore": "2026-04-07T00:00:00Z",
        "skillBasedAvailability": False,
    }
    response = st.request("POST", "dispatch", "capacity", json=body)
    assert response.status_code == 200, response.text
    slots = {s["startUtc"][11:16]: s for s in response.json()["availabilities"]}
    assert sorted(slots) == ["14:00", "16:00", "18:00", "20:00"]
    for start, slot in slots.items():
        status = {t["id"]: t["status"] for t in slot["technicians"]}
        assert len(status) == 13 and all(t["name"] for t in slot["technicians"])
        expected_busy = {1000} if start == "16:00" else set()
        assert {t for t, s in status.items() if s == "Unavailable"} == expected_busy
        assert slot["openAvailability"] == slot["totalAvailability"] - 2 * len(expected_busy)
        assert slot["isAvailable"]


def test_reschedule_keeps_what_the_request_leaves_out(st) -> None:
    job = _job(st, 1011, at(15, "2026-03-30"), at(17, "2026-03-30"))
    path = f"appointments/{job['firstAppointmentId']}/reschedule"
    longer = st.request("PATCH", "jpm", path, json={"end": at(18, "2026-03-30")})
    assert longer.status_code == 200, longer.text
    assert longer.json()["start"].startswith("2026-03-30T15:00:00")
    assert longer.json()["end"].startswith("2026-03-30T18:00:00")
    backwards = st.request("PATCH", "jpm", path, json={"end": at(14, "2026-03-30")})
    assert backwards.status_code == 400 and "end" in _errors(backwards)
    bad = st.request("PATCH", "jpm", path, json={"start": "tomorrow"})
    assert bad.status_code == 400 and "start" in _errors(bad)
    missing = st.request("PATCH", "jpm", "appointments/1/reschedule", json={"start": at(15)})
    assert missing.status_code == 404
