"""The simulated tenant is a pure function of its seed: these digests pin it byte for byte.

Clients, the sync tests and the benchmarks rely on a seed giving the same records on every run
and in every version, so moving or reshaping the generators and the writes must not change a
single byte. A digest changes only when the records do; when that is meant, say why in the
commit and take the new value from the failure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from perfect_catch.simulators.servicetitan import ServiceTitanState
from perfect_catch.simulators.servicetitan.records import GENERATORS
from perfect_catch.simulators.servicetitan.universe import Universe

ANCHOR = "2025-06-02"
TENANT = 1_000_001


def _digest(parts: Iterator[Any]) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(orjson.dumps(part))
    return sha.hexdigest()[:16]


def _pages(u: Universe, entity: str, size: int) -> Iterator[Any]:
    """The first, a middle and the last `size` records of `entity`, by index."""
    count = u.counts[entity]
    starts = sorted({0, max(0, count // 2 - size // 2), max(0, count - size)})
    for start in starts:
        for index in range(start, min(count, start + size)):
            yield GENERATORS[entity](u, index)


@pytest.mark.parametrize(
    ("size", "page", "expected"),
    [
        ("small", 200, "fda459100a9f26d6"),
        ("medium", 100, "4d184cfd5561b168"),
        ("large", 20, "5f732f1de3f4f171"),
    ],
)
def test_generated_pages_are_pinned(size: str, page: int, expected: str) -> None:
    u = Universe(1, TENANT, size, ANCHOR)
    entities = sorted(GENERATORS)
    assert _digest(record for entity in entities for record in _pages(u, entity, page)) == expected


def _writes(st: ServiceTitanState) -> None:
    """One of every API write, on the first tenant."""
    m = st.mutator()
    customer = m.create_customer(
        {
            "name": "Rosa Diaz",
            "type": "Residential",
            "address": {
                "street": "1 Palm Ln",
                "city": "Mesa",
                "state": "AZ",
                "zip": "85201",
                "country": "USA",
            },
            "contacts": [{"type": "MobilePhone", "value": "+1 (480) 555-0142", "memo": "cell"}],
            "locations": [
                {
                    "name": "Rosa Diaz",
                    "address": {
                        "street": "1 Palm Ln",
                        "city": "Mesa",
                        "state": "AZ",
                        "zip": "85201",
                        "country": "USA",
                    },
                    "contacts": [{"type": "Phone", "value": "4805550143"}],
                }
            ],
        }
    )
    location_id = m.locations_of(customer["id"])[0]
    job = m.create_job(
        {
            "customerId": customer["id"],
            "locationId": location_id,
            "businessUnitId": 3000,
            "jobTypeId": 4001,
            "campaignId": 5000,
            "appointments": [
                {"start": "2026-03-02T16:00:00Z", "end": "2026-03-02T18:00:00Z"},
                {
                    "start": "2026-03-03T16:00:00Z",
                    "end": "2026-03-03T18:00:00Z",
                    "technicianIds": [1008],
                },
            ],
        }
    )
    booked = m.book_appointment(
        {"jobId": job["id"], "start": "2026-03-04T15:00:00Z", "end": "2026-03-04T17:00:00Z"}
    )
    m.reschedule(booked["id"], {"end": "2026-03-04T18:00:00Z"})
    m.assign_technicians({"jobAppointmentId": booked["id"], "technicianIds": [1010, 1008]})
    m.unassign_technicians({"jobAppointmentId": booked["id"], "technicianIds": [1010]})
    estimate = m.create_estimate(
        {
            "jobId": job["id"],
            "name": "Pump replacement",
            "items": [
                {"skuId": 8001, "quantity": 1},
                {"skuId": 6003, "quantity": 2, "description": "Skimmer baskets"},
                {"skuId": 7002, "quantity": 1, "unitPrice": 999.5},
            ],
        }
    )
    m.upsert_estimate_item(estimate["id"], {"skuId": 8001, "quantity": 3})
    m.update_sku("services", 8001, {"price": 129.0})
    m.sell_estimate(estimate["id"], 1001)
    m.add_note("jobs", job["id"], "gate code 4411", True)
    m.complete_job(job["id"])
    m.merge_customer(10_000_003, 10_000_004)
    assert m.capacity(
        {
            "startsOnOrAfter": "2026-03-02T00:00:00Z",
            "endsOnOrBefore": "2026-03-05T00:00:00Z",
            "skillBasedAvailability": False,
        }
    )["availabilities"]


def test_business_days_and_writes_are_pinned() -> None:
    st = ServiceTitanState(seed=3, anchor=ANCHOR)
    summary = st.advance(3)
    _writes(st)
    entities = sorted(GENERATORS)
    exports = (list(st.records(entity)) for entity in entities)
    notes = sorted(st.store().notes.items())
    assert _digest(iter([summary, *exports, notes])) == "c0480e10e3b14789"
