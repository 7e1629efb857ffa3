"""Seeded, lazy generation: same seed same records, and `large` is cheap to read anywhere."""

from __future__ import annotations

import time
import tracemalloc

import orjson

from perfect_catch.simulators.servicetitan import ServiceTitanState
from perfect_catch.simulators.servicetitan.records import GENERATORS
from perfect_catch.simulators.servicetitan.store import decode_from, encode_token
from perfect_catch.simulators.servicetitan.timefmt import parse_instant
from perfect_catch.simulators.servicetitan.universe import Universe, counts_for


def _dump(state: ServiceTitanState, entity: str) -> bytes:
    return orjson.dumps(list(state.records(entity)))


def test_same_seed_same_records_and_other_seed_differs() -> None:
    one, again, other = (ServiceTitanState(seed=s) for s in (1, 1, 2))
    for entity in ("customers", "jobs", "invoices", "customer-contacts"):
        assert _dump(one, entity) == _dump(again, entity)
        assert _dump(one, entity) != _dump(other, entity)


def test_business_days_are_deterministic() -> None:
    one, again = ServiceTitanState(seed=3), ServiceTitanState(seed=3)
    assert one.advance(3) == again.advance(3)
    for entity in ("customers", "jobs", "estimates", "invoices", "payments"):
        assert _dump(one, entity) == _dump(again, entity)


def test_medium_mirrors_the_real_tenant() -> None:
    counts = counts_for("medium")
    assert counts["customers"] == 1696
    assert counts["jobs"] == 3260
    assert counts["estimates"] == 1247
    assert counts["invoices"] == 3597
    assert counts["appointments"] == 4156
    assert counts["technicians"] == 14
    assert counts_for("large")["customers"] >= 1_000_000


def test_records_follow_the_spec_shapes() -> None:
    u = Universe(1, 1_000_001, "medium")
    estimates = [GENERATORS["estimates"](u, i) for i in range(u.counts["estimates"])]
    assert len(estimates) == 1247 and sum(e["jobId"] is None for e in estimates) == 140
    assert {e["status"]["name"] for e in estimates} == {"Open", "Sold", "Dismissed"}
    assert all(isinstance(e["status"]["value"], int) and e["items"] for e in estimates)
    invoice = GENERATORS["invoices"](u, 10)
    assert isinstance(invoice["total"], str) and "." in invoice["total"]
    assert set(invoice["customer"]) == {"id", "name"}
    assert set(invoice["job"]) == {"id", "number", "type"}
    children = [
        GENERATORS["invoice-items"](u, k) for k in u.children("invoices", "invoice-items", 10)
    ]
    assert len(children) == 3 and [i["id"] for i in invoice["items"]] == [c["id"] for c in children]
    assert {c["invoiceId"] for c in children} == {invoice["id"]}
    assert not {"invoiceId", "active"} & {key for i in invoice["items"] for key in i}
    customers = [GENERATORS["customers"](u, i) for i in range(u.counts["customers"])]
    merged = [c for c in customers if c["mergedToId"] is not None]
    assert len(merged) == 24 and {c["active"] for c in merged} == {False}
    assert sum(not c["active"] and c["mergedToId"] is None for c in customers) == 39
    stamp = customers[0]["modifiedOn"]
    assert len(stamp.split(".")[1]) == 8 and stamp.endswith("Z")  # 7 digits + Z
    phones = {
        GENERATORS["customer-contacts"](u, i)["value"]
        for i in range(200)
        if GENERATORS["customer-contacts"](u, i)["type"] != "Email"
    }
    assert len(phones) == 107
    assert sum(p.startswith("+1") for p in phones) == 30 and sum("(" in p for p in phones) == 21


def test_base_modified_on_is_ordered_with_ties() -> None:
    u = Universe(1, 1_000_001, "small")
    for entity in ("customers", "jobs", "invoice-items"):
        ticks = [u.modified_ticks(entity, i) for i in range(u.counts[entity])]
        assert ticks == sorted(ticks)
        assert len(set(ticks)) < len(ticks) - 10, "expected runs of identical modifiedOn"
        stamps = [GENERATORS[entity](u, i)["modifiedOn"] for i in range(u.counts[entity])]
        assert [parse_instant(s) for s in stamps] == ticks


def test_tokens_are_opaque_and_dates_are_accepted() -> None:
    key = (638_000_000_000_000_000, 10_000_123)
    assert decode_from(encode_token(key)) == key
    assert decode_from("2020-01-01")[0] == parse_instant("2020-01-01T00:00:00Z") - 1


def test_large_page_near_the_end_is_fast_and_memory_flat() -> None:
    tracemalloc.start()
    started = time.perf_counter()
    state = ServiceTitanState(seed=1, size="large")
    store = state.store()
    customers = state.store().universe.counts["customers"]
    assert customers >= 1_000_000
    first, has_more, token = store.export_page("customers", None, False, 500, 0)
    assert len(first) == 500 and has_more
    near_end = encode_token(
        (store.universe.modified_ticks("customers", customers - 300), 10_000_000 + customers - 300)
    )
    last, has_more, _ = store.export_page("customers", near_end, False, 500, 0)
    assert len(last) == 299 and not has_more
    assert last[-1]["id"] == 10_000_000 + customers - 1
    jobs, _, _ = store.export_page("jobs", "2025-05-01", False, 200, 0)
    assert len(jobs) == 200 and min(j["modifiedOn"] for j in jobs) >= "2025-05-01"
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 5, elapsed
    assert peak < 50_000_000, peak


def test_coordinates_are_the_city_centre_plus_an_offset_rounded_to_six_places() -> None:
    # The generator adds integers and divides once instead of rounding a float sum: the same
    # float for every city and every offset it can draw.
    from perfect_catch.simulators.servicetitan import catalog
    from perfect_catch.simulators.servicetitan.records.people import _CITY_PARTS

    for (_, _, lat, lon), (_, _, lat_units, lon_units) in zip(
        catalog.CITIES, _CITY_PARTS, strict=True
    ):
        for offset in range(2000):
            assert (lat_units + offset) / 10_000 == round(lat + (offset - 1000) / 10_000, 6)
            assert (lon_units + offset) / 10_000 == round(lon + (offset - 1000) / 10_000, 6)
