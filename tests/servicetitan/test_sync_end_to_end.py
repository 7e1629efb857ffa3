"""The ServiceTitan sync end to end: simulator → HTTP client → loader → PostgreSQL.

Every test ends by comparing the warehouse with the simulator's ground truth, record for record:
the invariant is "exactly the source's records, no duplicates, no gaps, nothing older".
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
import sqlalchemy as sa

from perfect_catch.connectors.servicetitan import ServiceTitanClient
from perfect_catch.settings import load_settings
from perfect_catch.warehouse.catalog import ENTITIES, EntitySpec, get_entity
from perfect_catch.warehouse.sync import SyncResult, sync_entity

# Warehouse entity name → the simulator's name for the same feed.
SIM_ENTITY = {
    "customers": "customers",
    "customer_contacts": "customer-contacts",
    "locations": "locations",
    "jobs": "jobs",
    "appointments": "appointments",
    "appointment_assignments": "appointment-assignments",
    "estimates": "estimates",
    "invoices": "invoices",
    "payments": "payments",
    "installed_equipment": "installed-equipment",
    "technicians": "technicians",
    "employees": "employees",
    "business_units": "business-units",
    "job_types": "job-types",
    "campaigns": "campaigns",
    "pricebook_materials": "materials",
    "pricebook_equipment": "pricebook-equipment",
    "pricebook_services": "services",
    "pricebook_categories": "categories",
}


def _st(simulator):
    return simulator.system("servicetitan")


def _tenant(simulator) -> int:
    return _st(simulator).tenant_ids[0]


def _client(simulator, clock=None) -> ServiceTitanClient:
    options = {"clock": clock} if clock is not None else {}
    return ServiceTitanClient.from_settings(load_settings(), _tenant(simulator), **options)


def _sync(engine, simulator, name: str, *, clock=None, **kw: Any) -> SyncResult:
    with _client(simulator, clock) as client:
        return sync_entity(engine, client, get_entity(name), _tenant(simulator), **kw)


def _warehouse(engine: sa.Engine, spec: EntitySpec, tenant: int) -> dict[int, dict]:
    query = sa.text(
        f"select id, raw from {spec.schema}.{spec.table} "
        "where tenant_id = :t and deleted_at is null"
    )
    with engine.connect() as conn:
        return {row.id: row.raw for row in conn.execute(query, {"t": tenant})}


def _truth(simulator, name: str) -> dict[int, dict]:
    records = _st(simulator).records(SIM_ENTITY[name])
    return {r["id"]: r for r in records if isinstance(r.get("id"), int)}


def _assert_exact(engine: sa.Engine, simulator, name: str) -> None:
    spec = get_entity(name)
    have = _warehouse(engine, spec, _tenant(simulator))
    want = _truth(simulator, name)
    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want))
    stale = sorted(i for i in set(want) & set(have) if have[i] != want[i])
    assert not (missing or extra or stale), (
        f"{name}: missing {missing[:5]}, extra {extra[:5]}, stale {stale[:5]}"
    )


@pytest.fixture
def small_pages(simulator):
    """Export pages of 25 records, so a small tenant crosses many page boundaries."""
    st = _st(simulator)
    st.export_page_size, st.rate_limit = 25, 0
    return simulator


def test_every_entity_syncs_exactly_and_a_second_run_writes_nothing(engine, simulator) -> None:
    for spec in ENTITIES:
        first = _sync(engine, simulator, spec.name)
        assert first.rejected == 0, spec.name
        assert first.inserted > 0, f"{spec.name}: nothing loaded"
        _assert_exact(engine, simulator, spec.name)

    with engine.connect() as conn:
        before = {
            spec.name: conn.execute(
                sa.text(f"select max(synced_at), count(*) from {spec.schema}.{spec.table}")
            ).one()
            for spec in ENTITIES
        }
    for spec in ENTITIES:
        again = _sync(engine, simulator, spec.name)
        assert (again.inserted, again.updated, again.deleted) == (0, 0, 0), spec.name
    with engine.connect() as conn:
        for spec in ENTITIES:
            after = conn.execute(
                sa.text(f"select max(synced_at), count(*) from {spec.schema}.{spec.table}")
            ).one()
            assert after == before[spec.name], f"{spec.name} was rewritten"


def test_estimate_and_invoice_items_match_their_parents(engine, simulator) -> None:
    for name in ("estimates", "invoices"):
        _sync(engine, simulator, name)
    tenant = _tenant(simulator)
    for name, child in (("estimates", "st_estimate_items"), ("invoices", "st_invoice_items")):
        want = sum(len(r.get("items") or []) for r in _truth(simulator, name).values())
        with engine.connect() as conn:
            have = conn.execute(
                sa.text(f"select count(*) from servicetitan.{child} where tenant_id = :t"),
                {"t": tenant},
            ).scalar_one()
        assert have == want > 0, child


def test_changes_sync_incrementally(engine, small_pages) -> None:
    sim = small_pages
    _sync(engine, sim, "customers")
    st = _st(sim)
    ids = sorted(_truth(sim, "customers"))[:5]
    st.touch("customers", ids, name="Renamed Customer")
    result = _sync(engine, sim, "customers")
    assert result.updated == 5
    assert result.inserted == 0
    assert result.records < 30, "incremental sync reread the whole feed"
    _assert_exact(engine, sim, "customers")


def test_ties_on_modified_on_across_page_boundaries(engine, small_pages) -> None:
    sim = small_pages
    st = _st(sim)
    _sync(engine, sim, "customers")
    st.create_tied("customers", 60)  # 60 records with one modifiedOn span 3+ pages of 25
    _sync(engine, sim, "customers")
    _assert_exact(engine, sim, "customers")
    ids = sorted(_truth(sim, "customers"))[10:70]
    st.touch("customers", ids, same_instant=True, name="Tie Breaker")
    _sync(engine, sim, "customers")
    _assert_exact(engine, sim, "customers")


def test_include_recent_changes_repeats_are_harmless(engine, small_pages) -> None:
    sim = small_pages
    _sync(engine, sim, "jobs", include_recent_changes=True)
    _assert_exact(engine, sim, "jobs")
    st = _st(sim)
    st.advance(1)
    result = _sync(engine, sim, "jobs", include_recent_changes=True)
    assert result.unchanged > 0, "the feed repeated nothing: the case is not exercised"
    _assert_exact(engine, sim, "jobs")


def test_inactive_and_merged_records_are_kept_as_the_source_says(engine, small_pages) -> None:
    sim = small_pages
    st = _st(sim)
    ids = sorted(_truth(sim, "customers"))
    st.mutator().merge_customer(ids[3], ids[4])
    st.touch("customers", [ids[5]], active=False)
    _sync(engine, sim, "customers")
    _assert_exact(engine, sim, "customers")
    merged, inactive = _customer_rows(engine, _tenant(sim), ids[3], ids[5])
    assert merged.merged_to_id == ids[4] and merged.active is False
    assert inactive.active is False


def _customer_rows(engine: sa.Engine, tenant: int, *ids: int) -> list[Any]:
    """Typed customer rows by id, in the order asked."""
    with engine.connect() as conn:
        rows = {
            row.id: row
            for row in conn.execute(
                sa.text(
                    "select id, active, merged_to_id from servicetitan.st_customers "
                    "where tenant_id = :t and id = any(:ids)"
                ),
                {"t": tenant, "ids": list(ids)},
            )
        }
    return [rows[i] for i in ids]


def test_429_storm_and_token_expiring_mid_feed(engine, small_pages, fake_clock) -> None:
    sim = small_pages
    sim.set_faults(rate_429=0.3, rate_5xx=0.05)
    st = _st(sim)
    with _client(sim, fake_clock.as_clock()) as client:
        spec = get_entity("invoices")
        pages = 0

        def expire_every_third_page(progress) -> None:
            nonlocal pages
            pages += 1
            if pages % 3 == 0:
                st.expire_tokens()

        result = sync_entity(engine, client, spec, _tenant(sim), on_page=expire_every_third_page)
        assert client.tokens_issued > 1, "no token expired mid-feed"
    sim.set_faults(rate_429=0.0, rate_5xx=0.0)
    assert result.retries > 0
    assert fake_clock.sleeps, "no back-off happened"
    _assert_exact(engine, sim, "invoices")


#: How the sync names each kind of malformed record the simulator can serve.
REJECT_REASONS = {
    "bad_modified_on": "modifiedOn: invalid timestamp '2025-13-45T25:61:00.0000000Z'",
    "missing_id": "id: missing",
    "nul_char": "name: contains a NUL",
    "wrong_type": "id: expected an integer, got str",
}


@pytest.mark.parametrize("kind", sorted(REJECT_REASONS))
def test_malformed_record_is_rejected_and_the_rest_loads(engine, small_pages, kind: str) -> None:
    sim = small_pages
    st = _st(sim)
    _sync(engine, sim, "customers")
    ids = sorted(_truth(sim, "customers"))
    st.touch("customers", ids[:3], name="Still Fine")
    st.make_malformed("customers", ids[1], kind)
    result = _sync(engine, sim, "customers")
    assert result.rejected == 1
    with engine.connect() as conn:
        reason = conn.execute(
            sa.text("select reason from public.sync_rejects where entity = 'customers'")
        ).scalar_one()
    assert reason.startswith(REJECT_REASONS[kind]), reason
    have = _warehouse(engine, get_entity("customers"), _tenant(sim))
    truth = _truth(sim, "customers")
    for good in (ids[0], ids[2]):
        assert have[good] == truth[good]
    assert have[ids[1]]["name"] != "Still Fine", "the malformed version overwrote the row"


KILLER = """
import sys
from perfect_catch.connectors.servicetitan import ServiceTitanClient
from perfect_catch.settings import load_settings
from perfect_catch.warehouse.catalog import get_entity
from perfect_catch.warehouse.engine import get_engine
from perfect_catch.warehouse.sync import sync_entity

tenant = int(sys.argv[1])
settings = load_settings()
with ServiceTitanClient.from_settings(settings, tenant) as client:
    sync_entity(get_engine(settings), client, get_entity("customers"), tenant,
                on_page=lambda p: print(p.page, flush=True))
"""


def test_sync_killed_mid_feed_resumes_to_exact_truth(engine, small_pages) -> None:
    sim = small_pages
    sim.set_faults(latency_ms=40)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLER, str(_tenant(sim))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.strip() and int(line) >= 3:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    sim.set_faults(latency_ms=0)

    spec = get_entity("customers")
    partial = _warehouse(engine, spec, _tenant(sim))
    truth = _truth(sim, "customers")
    assert 0 < len(partial) < len(truth), "the kill did not land mid-feed"

    st = _st(sim)
    st.touch("customers", sorted(truth)[:4], name="Changed While Down")
    _sync(engine, sim, "customers")
    _assert_exact(engine, sim, "customers")


def test_full_refresh_soft_deletes_what_the_source_dropped(engine, simulator) -> None:
    sim = simulator
    _sync(engine, sim, "technicians")
    tenant = _tenant(sim)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into servicetitan.st_technicians (tenant_id, id, raw, modified_on, "
                "synced_at) values (:t, 999999999, '{}'::jsonb, now(), now() - interval '1 day')"
            ),
            {"t": tenant},
        )
    result = _sync(engine, sim, "technicians", full=True)
    assert result.deleted == 1
    with engine.connect() as conn:
        gone = conn.execute(
            sa.text(
                "select deleted_at is not null from servicetitan.st_technicians "
                "where tenant_id = :t and id = 999999999"
            ),
            {"t": tenant},
        ).scalar_one()
    assert gone is True
    _assert_exact(engine, sim, "technicians")


def test_initial_load_copies_directly_and_falls_back_when_the_feed_repeats_a_record(
    engine, small_pages, direct_copies: list[bool]
) -> None:
    sim = small_pages
    st = _st(sim)
    copies = direct_copies
    first_page = [r["id"] for r in st.records("customers")][:25]

    def touch_a_loaded_record(progress: Any) -> None:
        # Changed after its page was committed: the feed serves it again at its end.
        if progress.page == 1:
            st.touch("customers", [first_page[3]], name="Changed Mid Sync")

    result = _sync(engine, sim, "customers", full=True, on_page=touch_a_loaded_record)
    truth = _truth(sim, "customers")
    assert copies.count(False) == 1, copies
    assert copies.count(True) == result.pages - 1
    assert (result.inserted, result.updated, result.deleted) == (len(truth), 1, 0)
    assert result.records == len(truth) + 1
    _assert_exact(engine, sim, "customers")
    assert truth[first_page[3]]["name"] == "Changed Mid Sync"

    # The next full refresh finds rows: upserts, tracks what it saw, and writes nothing.
    again = _sync(engine, sim, "customers", full=True)
    assert copies.count(True) == result.pages - 1
    assert (again.inserted, again.updated, again.deleted) == (0, 0, 0)
    _assert_exact(engine, sim, "customers")
