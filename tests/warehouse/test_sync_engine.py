"""The sync engine against a scripted client: resume, per-page atomicity, full refresh, locks."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from perfect_catch.streaming import GC_THRESHOLD, SWITCH_INTERVAL
from perfect_catch.warehouse import sync
from perfect_catch.warehouse.catalog import get_entity
from perfect_catch.warehouse.loading import load
from perfect_catch.warehouse.sync import PageProgress, SyncAlreadyRunning, sync_entity

TENANT = 31
CUSTOMERS = get_entity("customers")
JOB_TYPES = get_entity("job_types")


@dataclass
class Page:
    records: list[dict[str, Any]]
    continue_from: str | None
    has_more: bool


@dataclass
class ListPage:
    records: list[dict[str, Any]]
    page: int
    has_more: bool
    total_count: int | None = None


@dataclass
class Stats:
    api_calls: int = 0
    retries: int = 0
    pages: int = 0


@dataclass
class FakeExportClient:
    """An export feed: a change log read in pages; token `tN` means "after N changes"."""

    page_size: int = 3
    log: list[dict[str, Any]] = field(default_factory=list)
    stats: Stats = field(default_factory=Stats)
    list_params: list[dict[str, Any]] = field(default_factory=list)

    def upsert(self, cid: int, modified: str, **extra: Any) -> None:
        self.log.append({"id": cid, "name": f"c{cid}", "modifiedOn": modified, **extra})

    def current(self) -> list[dict[str, Any]]:
        latest: dict[int, dict[str, Any]] = {}
        for record in self.log:
            latest[record["id"]] = record
        return list(latest.values())

    def export(
        self,
        module: str,
        resource: str,
        *,
        from_token: str | None = None,
        include_recent_changes: bool = False,
    ) -> Iterator[Page]:
        assert (module, resource) == (CUSTOMERS.module, CUSTOMERS.resource)
        start = int(from_token[1:]) if from_token else 0
        current = self.current()
        # Read from the start, the feed holds each record once, at its current version.
        compacted = from_token is None and len(current) != len(self.log)
        feed = current if compacted else self.log[start:]
        position = 0
        while True:
            chunk = feed[position : position + self.page_size]
            position += len(chunk)
            more = position < len(feed)
            self.stats.api_calls += 1
            if not more:
                token = f"t{len(self.log)}"
            else:
                token = "t0" if compacted else f"t{start + position}"
            yield Page(chunk, token, more)
            if not more:
                return

    def iter_list(
        self, module: str, resource: str, params: dict[str, Any] | None = None
    ) -> Iterator[ListPage]:
        self.list_params.append(dict(params or {}))
        records = self.current()
        after = (params or {}).get("modifiedOnOrAfter")
        if after:
            records = [r for r in records if r["modifiedOn"] >= after]
        for index in range(0, max(len(records), 1), self.page_size):
            self.stats.api_calls += 1
            chunk = records[index : index + self.page_size]
            yield ListPage(
                chunk, index // self.page_size + 1, index + self.page_size < len(records)
            )


def table(engine: sa.Engine, name: str = "st_customers") -> dict[int, Any]:
    with engine.connect() as conn:
        found = conn.execute(
            sa.text(f"select id, name, modified_on, deleted_at from servicetitan.{name}")
        )
        return {row.id: row for row in found}


def state(engine: sa.Engine, entity: str = "customers") -> Any:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("select * from public.sync_state where entity = :e"), {"e": entity}
        ).one_or_none()


def test_a_sync_runs_with_the_streaming_settings_and_restores_them(engine: sa.Engine) -> None:
    client = FakeExportClient()
    for cid in range(1, 5):
        client.upsert(cid, f"2024-05-01T00:00:0{cid}Z")
    before = gc.get_threshold(), sys.getswitchinterval()
    during: list[tuple[int, float]] = []
    sync_entity(
        engine,
        client,
        CUSTOMERS,
        TENANT,
        on_page=lambda _: during.append((gc.get_threshold()[0], sys.getswitchinterval())),
    )
    assert len(during) == 2  # four records, three to a page
    assert min(young for young, _ in during) >= GC_THRESHOLD
    assert max(switch for _, switch in during) <= SWITCH_INTERVAL + 1e-6
    assert (gc.get_threshold(), sys.getswitchinterval()) == before


def test_incremental_sync_resumes_from_the_stored_token(engine: sa.Engine) -> None:
    client = FakeExportClient()
    for cid in range(1, 8):
        client.upsert(cid, f"2024-05-01T00:00:0{cid}Z")
    progress: list[PageProgress] = []
    first = sync_entity(engine, client, CUSTOMERS, TENANT, on_page=progress.append)
    assert (first.inserted, first.updated, first.pages, first.records) == (7, 0, 3, 7)
    assert first.token == "t7" and state(engine).continuation_token == "t7"
    assert [p.total_records for p in progress] == [3, 6, 7]
    assert first.api_calls == 3

    client.upsert(3, "2024-05-02T00:00:00Z", name="changed")
    client.upsert(8, "2024-05-02T00:00:01Z")
    second = sync_entity(engine, client, CUSTOMERS, TENANT)
    assert (second.inserted, second.updated, second.records) == (1, 1, 2)
    assert second.token == "t9"
    rows = table(engine)
    assert len(rows) == 8 and rows[3].name == "changed"


def test_token_is_committed_with_the_rows_of_its_page(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = FakeExportClient()
    for cid in range(1, 10):
        client.upsert(cid, f"2024-05-01T00:00:0{cid}Z")
    real = load.load_records
    calls = {"n": 0}

    def failing_on_second_page(*args: Any, **kwargs: Any) -> load.LoadResult:
        calls["n"] += 1
        result = real(*args, **kwargs)
        if calls["n"] == 2:
            raise ConnectionError("killed in the middle of page 2")
        return result

    monkeypatch.setattr(sync, "load_records", failing_on_second_page)
    with pytest.raises(ConnectionError):
        sync_entity(engine, client, CUSTOMERS, TENANT)
    assert state(engine).continuation_token == "t3"
    assert sorted(table(engine)) == [1, 2, 3]

    monkeypatch.setattr(sync, "load_records", real)
    again = sync_entity(engine, client, CUSTOMERS, TENANT)
    assert again.inserted == 6 and again.token == "t9"
    assert sorted(table(engine)) == list(range(1, 10))


def test_replayed_changes_write_nothing_and_never_go_back_in_time(engine: sa.Engine) -> None:
    client = FakeExportClient()
    client.upsert(1, "2024-05-01T00:00:00Z", name="v1")
    client.upsert(1, "2024-05-03T00:00:00Z", name="v3")
    sync_entity(engine, client, CUSTOMERS, TENANT)
    with engine.begin() as conn:
        conn.execute(sa.text("update public.sync_state set continuation_token = 't0'"))
    # From the start of the log again: v1 then v3 arrive again in the same order.
    client.page_size = 1
    replay = sync_entity(engine, client, CUSTOMERS, TENANT)
    assert (replay.inserted, replay.updated) == (0, 0)
    assert table(engine)[1].name == "v3"


def test_full_refresh_soft_deletes_missing_rows_and_restores_returning_ones(
    engine: sa.Engine,
) -> None:
    client = FakeExportClient()
    for cid in range(1, 6):
        client.upsert(cid, "2024-05-01T00:00:00Z")
    sync_entity(engine, client, CUSTOMERS, TENANT)
    with engine.begin() as conn:  # another tenant's rows are never touched
        conn.execute(
            sa.text(
                "insert into servicetitan.st_customers (tenant_id, id, raw, modified_on, synced_at)"
                " values (99, 4, '{}', now(), now())"
            )
        )

    gone = client.log.pop(3)  # customer 4 disappears at the source
    full = sync_entity(engine, client, CUSTOMERS, TENANT, full=True)
    assert full.deleted == 1 and (full.inserted, full.updated) == (0, 0)
    rows = table(engine)
    assert rows[4].deleted_at is not None
    assert all(rows[c].deleted_at is None for c in (1, 2, 3, 5))
    st = state(engine)
    assert st.full_sync_started_at <= st.last_full_sync_at
    with engine.connect() as conn:
        other = conn.execute(
            sa.text("select deleted_at from servicetitan.st_customers where tenant_id = 99")
        ).one()
    assert other.deleted_at is None

    client.log.append(gone)  # it comes back unchanged
    again = sync_entity(engine, client, CUSTOMERS, TENANT, full=True)
    assert again.deleted == 0 and again.updated == 1
    assert table(engine)[4].deleted_at is None


def test_full_refresh_keeps_rows_whose_record_was_rejected(engine: sa.Engine) -> None:
    client = FakeExportClient()
    client.upsert(1, "2024-05-01T00:00:00Z")
    client.upsert(2, "2024-05-01T00:00:00Z")
    sync_entity(engine, client, CUSTOMERS, TENANT)
    client.upsert(2, "2024-05-02T00:00:00Z", active="not a boolean")
    full = sync_entity(engine, client, CUSTOMERS, TENANT, full=True)
    assert full.rejected == 1 and full.deleted == 0
    assert table(engine)[2].deleted_at is None


def test_one_run_per_tenant_and_entity(engine: sa.Engine) -> None:
    client = FakeExportClient()
    client.upsert(1, "2024-05-01T00:00:00Z")
    with engine.connect() as holder:
        holder.execute(
            sa.text("select pg_advisory_lock(hashtextextended(:k, 0))"),
            {"k": f"sync:servicetitan:{TENANT}:customers"},
        )
        with pytest.raises(SyncAlreadyRunning, match="customers for tenant 31"):
            sync_entity(engine, client, CUSTOMERS, TENANT)
        # Another tenant is not blocked.
        assert sync_entity(engine, client, CUSTOMERS, TENANT + 1).inserted == 1
        holder.execute(
            sa.text("select pg_advisory_unlock(hashtextextended(:k, 0))"),
            {"k": f"sync:servicetitan:{TENANT}:customers"},
        )
    assert sync_entity(engine, client, CUSTOMERS, TENANT).inserted == 1


def test_list_entity_pages_from_the_watermark(engine: sa.Engine) -> None:
    client = FakeExportClient()
    client.log = [
        {"id": 1, "name": "Pool service", "active": True, "modifiedOn": "2024-05-01T00:00:00Z"},
        {"id": 2, "name": "Old type", "active": False, "modifiedOn": "2024-05-02T00:00:00Z"},
    ]
    first = sync_entity(engine, client, JOB_TYPES, TENANT)
    assert first.inserted == 2
    assert first.watermark == datetime(2024, 5, 2, tzinfo=UTC)
    assert client.list_params[0] == {"active": "Any"}

    client.log.append(
        {"id": 3, "name": "New type", "active": True, "modifiedOn": "2024-05-03T00:00:00Z"}
    )
    second = sync_entity(engine, client, JOB_TYPES, TENANT)
    assert client.list_params[1] == {"active": "Any", "modifiedOnOrAfter": "2024-05-02T00:00:00Z"}
    assert (second.inserted, second.unchanged) == (1, 1)
    assert state(engine, "job_types").watermark == datetime(2024, 5, 3, tzinfo=UTC)
    assert sorted(table(engine, "st_job_types")) == [1, 2, 3]


def test_result_metadata_is_plain(engine: sa.Engine) -> None:
    client = FakeExportClient()
    client.upsert(1, "2024-05-01T00:00:00Z")
    meta = sync_entity(engine, client, CUSTOMERS, TENANT, run_id="r1").metadata()
    assert meta["inserted"] == 1 and meta["entity"] == "customers"
    assert all(isinstance(v, str | int | float | bool | type(None)) for v in meta.values())


def test_prefetch_raises_source_errors_and_closes_the_source_on_early_exit() -> None:
    closed: list[bool] = []

    def source(fail_at: int | None) -> Iterator[int]:
        try:
            for n in range(100):
                if n == fail_at:
                    raise TimeoutError("source failed")
                yield n
        finally:
            closed.append(True)

    assert list(sync.prefetch(source(None))) == list(range(100))
    with pytest.raises(TimeoutError, match="source failed"):
        list(sync.prefetch(source(5)))
    reader = sync.prefetch(source(None))
    assert next(reader) == 0
    reader.close()
    assert closed == [True, True, True]


def test_source_error_mid_sync_keeps_committed_pages(engine: sa.Engine) -> None:
    client = FakeExportClient()
    for cid in range(1, 8):
        client.upsert(cid, f"2024-05-01T00:00:0{cid}Z")
    real_export = client.export

    def broken_export(*args: Any, **kwargs: Any) -> Iterator[Page]:
        for number, page in enumerate(real_export(*args, **kwargs)):
            if number == 2:
                raise ConnectionError("HTTP 503 after retries")
            yield page

    client.export = broken_export  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        sync_entity(engine, client, CUSTOMERS, TENANT)
    assert state(engine).continuation_token == "t6"
    assert sorted(table(engine)) == [1, 2, 3, 4, 5, 6]


def test_full_refresh_soft_deletes_the_items_of_deleted_estimates(engine: sa.Engine) -> None:
    estimates = get_entity("estimates")

    def est(eid: int) -> dict[str, Any]:
        items = [
            {"id": eid * 10 + n, "total": n, "modifiedOn": "2024-05-01T00:00:00Z"} for n in (1, 2)
        ]
        return {"id": eid, "modifiedOn": "2024-05-01T00:00:00Z", "items": items}

    class EstimateFeed(FakeExportClient):
        def export(self, module: str, resource: str, **kwargs: Any) -> Iterator[Page]:
            assert (module, resource) == ("sales", "estimates")
            yield Page(list(self.log), "e1", False)

    client = EstimateFeed()
    client.log = [est(1), est(2)]
    sync_entity(engine, client, estimates, TENANT)
    client.log = [est(1)]
    assert sync_entity(engine, client, estimates, TENANT, full=True).deleted == 1
    with engine.connect() as conn:
        items = conn.execute(
            sa.text(
                "select id, deleted_at is not null as gone from servicetitan.st_estimate_items "
                "order by id"
            )
        ).all()
    assert [(r.id, r.gone) for r in items] == [(11, False), (12, False), (21, True), (22, True)]


class Killed(Exception):
    """Stands for the process dying right after a page was committed."""


def _source_entity(spec: Any) -> str:
    from perfect_catch.simulators.servicetitan.routes import EXPORTS, LISTS

    table = EXPORTS if spec.kind == "export" else LISTS
    return table[(spec.module, spec.resource)]


def _compare(engine: sa.Engine, sim: Any, tenant: int, spec: Any, skip: set[int]) -> None:
    truth = {
        r["id"]: r["modifiedOn"]
        for r in sim.system("servicetitan").ground_truth(tenant, _source_entity(spec))
        if r.get("id") not in skip
    }
    with engine.connect() as conn:
        found = conn.execute(
            sa.text(
                f"select id, raw ->> 'modifiedOn' as m from {spec.qualified} "
                "where tenant_id = :t and deleted_at is null"
            ),
            {"t": tenant},
        ).all()
    loaded = {r.id: r.m for r in found if r.id not in skip}
    assert loaded == truth, spec.name


def test_end_to_end_against_the_simulator(engine: sa.Engine, simulator: Any) -> None:
    from perfect_catch.connectors.servicetitan import ServiceTitanClient
    from perfect_catch.settings import load_settings
    from perfect_catch.warehouse.catalog import ENTITIES

    tenant = int(simulator.env["ST_TENANT_IDS"].split(",")[0])
    state_ = simulator.system("servicetitan")
    with ServiceTitanClient.from_settings(load_settings(), tenant) as client:
        for spec in ENTITIES:
            result = sync_entity(engine, client, spec, tenant)
            assert result.rejected == 0, spec.name
            _compare(engine, simulator, tenant, spec, set())

        customers = [r["id"] for r in state_.ground_truth(tenant, "customers")]
        state_.advance(1)
        state_.create_tied("customers", 7)
        state_.touch("customers", customers[:20], same_instant=True)
        broken = state_.make_malformed("customers", customers[30], "nul_char")
        result = sync_entity(engine, client, CUSTOMERS, tenant, include_recent_changes=True)
        assert result.rejected == 1
        _compare(engine, simulator, tenant, CUSTOMERS, {broken.get("id") or customers[30]})

        # Killed right after the first committed page, then run again: same end state.
        state_.advance(1)
        pages: list[int] = []

        def die_after_first(progress: PageProgress) -> None:
            pages.append(progress.page)
            raise Killed

        for spec in ENTITIES:
            with pytest.raises(Killed):
                sync_entity(engine, client, spec, tenant, on_page=die_after_first)
            sync_entity(engine, client, spec, tenant)
            skip = {customers[30]} if spec is CUSTOMERS else set()
            _compare(engine, simulator, tenant, spec, skip)

        full = sync_entity(engine, client, CUSTOMERS, tenant, full=True)
        assert full.deleted == 0
        _compare(engine, simulator, tenant, CUSTOMERS, {customers[30]})


def test_prefetch_prepares_on_its_thread_and_raises_its_errors() -> None:
    import threading

    threads: list[str] = []

    def prepare(page: int) -> int:
        threads.append(threading.current_thread().name)
        if page == 3:
            raise ValueError("page 3 cannot be prepared")
        return page * 10

    assert list(sync.prefetch(iter(range(3)), transform=prepare)) == [0, 10, 20]
    assert set(threads) == {"sync-prefetch"}
    with pytest.raises(ValueError, match="page 3"):
        list(sync.prefetch(iter(range(5)), transform=prepare))


def test_value_postgresql_refuses_is_rejected_and_the_page_still_commits(
    engine: sa.Engine,
) -> None:
    client = FakeExportClient()
    for cid in range(1, 7):
        client.upsert(cid, f"2024-05-01T00:00:0{cid}Z")
    # Passed on by the fast path (a JSON integer), refused by the bigint cast.
    client.log[4]["mergedToId"] = 2**63
    result = sync_entity(engine, client, CUSTOMERS, TENANT, run_id="r9")
    assert (result.inserted, result.rejected, result.pages) == (5, 1, 2)
    assert result.token == "t6" and state(engine).continuation_token == "t6"
    assert sorted(table(engine)) == [1, 2, 3, 4, 6]
    with engine.connect() as conn:
        (reason,) = conn.execute(sa.text("select reason from public.sync_rejects")).one()
    assert "mergedToId: expected a 64-bit integer" in reason
