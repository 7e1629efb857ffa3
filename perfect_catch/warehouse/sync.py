"""The sync engine: stream one entity of one tenant from ServiceTitan into its raw table.

Export entities resume from the stored continuation token. Each page is loaded and its token
stored in one transaction, so a process killed at any point resumes with no gap (the token never
runs ahead of the rows) and no duplicate (the upsert is idempotent and never goes back in time).

A full refresh (`full=True`) reads the feed from the start with the same per-page commits and,
once it has read everything, soft-deletes the tenant's rows it did not see: the source no longer
returns them. Rows are not rewritten just to prove they were seen; the ids seen are kept in a
session temporary table instead, so an unchanged table costs no writes.

An initial load (the tenant has no row in the target table when the run starts) COPYs pages
straight into the target table (see `loading.load.load_records`, `direct`); a page that repeats a
record already loaded falls back to the upsert. It needs no seen-ids table: every row of the
tenant was written by this run, so a full refresh has nothing to soft-delete.

List-only entities (job types, campaigns) page their list endpoint with `active=Any` from the
stored `modifiedOn` watermark (inclusive, safe because the upsert is idempotent), and store the
newest `modifiedOn` once the whole list was read.

One run per (source, tenant, entity) at a time: a session advisory lock guards it.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import psycopg
import sqlalchemy as sa

from perfect_catch.streaming import streaming
from perfect_catch.warehouse import sync_state
from perfect_catch.warehouse.catalog import EntitySpec
from perfect_catch.warehouse.loading.batch import PreparedBatch, prepare_batch
from perfect_catch.warehouse.loading.direct_copy import widen_copy_buffer
from perfect_catch.warehouse.loading.load import LoadResult, load_records
from perfect_catch.warehouse.loading.search_indexes import (
    build_search_indexes,
    defer_search_indexes,
)
from perfect_catch.warehouse.loading.seen_ids import SEEN_TABLE, ensure_seen_table


class SyncAlreadyRunning(RuntimeError):
    """Another process is syncing the same (source, tenant, entity) right now."""


class _Stats(Protocol):
    api_calls: int
    retries: int


class SourceClient(Protocol):
    """What the sync engine needs from `connectors.servicetitan.ServiceTitanClient`."""

    stats: _Stats

    def export(
        self,
        module: str,
        resource: str,
        *,
        from_token: str | None = None,
        include_recent_changes: bool = False,
    ) -> Iterator[Any]: ...

    def iter_list(
        self, module: str, resource: str, params: dict[str, Any] | None = None
    ) -> Iterator[Any]: ...


@dataclass(frozen=True)
class PageProgress:
    """Reported after each committed page, for logs and live progress in the UI."""

    entity: str
    tenant_id: int
    page: int
    records: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    total_records: int
    has_more: bool


@dataclass(frozen=True)
class SyncResult:
    """The outcome of one sync run; `metadata()` is what the Dagster asset reports."""

    entity: str
    tenant_id: int
    full: bool
    inserted: int
    updated: int
    unchanged: int
    deleted: int
    rejected: int
    pages: int
    records: int
    api_calls: int
    retries: int
    seconds: float
    token: str | None
    watermark: datetime | None

    def metadata(self) -> dict[str, Any]:
        """Plain values (timestamps as ISO text) fit for materialization metadata."""
        values = asdict(self)
        values["watermark"] = self.watermark.isoformat() if self.watermark else None
        values["seconds"] = round(self.seconds, 3)
        return values


_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetch(
    pages: Iterator[Any], depth: int = 2, transform: Callable[[Any], Any] | None = None
) -> Iterator[Any]:
    """Iterate `pages` in a background thread, `depth` pages ahead, each passed through
    `transform` (if given) on that thread.

    Fetching and decoding the next page (network, JSON) and preparing it for the load (the
    `transform`: validation, COPY lines) then overlap with loading the current one (PostgreSQL,
    which releases the GIL while it waits). Only the background thread touches the source
    iterator; an error there is raised here, and leaving this generator early stops and closes
    the source.
    """
    slots: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not put(page if transform is None else transform(page)):
                    break
            else:
                put(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(_Failure(exc))
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="sync-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        worker.join()


def _lock_key(spec: EntitySpec, tenant_id: int) -> str:
    return f"sync:{spec.source}:{tenant_id}:{spec.name}"


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class _Run:
    """Counters and positions of a run in progress."""

    total: LoadResult = field(default_factory=LoadResult)
    pages: int = 0
    token: str | None = None
    watermark: datetime | None = None
    deleted: int = 0


def sync_entity(
    engine: sa.Engine,
    client: SourceClient,
    spec: EntitySpec,
    tenant_id: int,
    *,
    full: bool = False,
    on_page: Callable[[PageProgress], None] | None = None,
    run_id: str | None = None,
    include_recent_changes: bool = False,
) -> SyncResult:
    """Sync `spec` for `tenant_id` (the tenant `client` is bound to) and report what it did."""
    started = time.monotonic()
    calls_before = client.stats.api_calls
    retries_before = client.stats.retries
    raw = engine.raw_connection()
    conn: psycopg.Connection = raw.driver_connection  # type: ignore[assignment]
    autocommit = conn.autocommit
    locked = False
    ok = False
    try:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.rollback()
        conn.autocommit = True
        row = conn.execute(
            "select pg_try_advisory_lock(hashtextextended(%s, 0))", (_lock_key(spec, tenant_id),)
        ).fetchone()
        locked = bool(row and row[0])
        if not locked:
            raise SyncAlreadyRunning(
                f"a sync of {spec.source} {spec.name} for tenant {tenant_id} is already running"
            )
        widen_copy_buffer(conn)
        with streaming():
            run = _run(conn, client, spec, tenant_id, full, on_page, run_id, include_recent_changes)
        ok = True
    finally:
        _release(raw, conn, spec, tenant_id, locked, autocommit, ok)
    return SyncResult(
        entity=spec.name,
        tenant_id=tenant_id,
        full=full,
        inserted=run.total.inserted,
        updated=run.total.updated,
        unchanged=run.total.unchanged,
        deleted=run.deleted,
        rejected=run.total.rejected,
        pages=run.pages,
        records=run.total.records,
        api_calls=client.stats.api_calls - calls_before,
        retries=client.stats.retries - retries_before,
        seconds=time.monotonic() - started,
        token=run.token,
        watermark=run.watermark,
    )


def _release(
    raw: Any,
    conn: psycopg.Connection,
    spec: EntitySpec,
    tenant_id: int,
    locked: bool,
    autocommit: bool,
    ok: bool,
) -> None:
    """Give the connection back clean: lock released, temp tables gone, autocommit restored."""
    try:
        if conn.broken or conn.closed:
            raw.invalidate()
            return
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.rollback()
        conn.execute(f"drop table if exists pg_temp.{SEEN_TABLE}")
        if locked:
            conn.execute(
                "select pg_advisory_unlock(hashtextextended(%s, 0))", (_lock_key(spec, tenant_id),)
            )
        conn.autocommit = autocommit
    except psycopg.Error:
        raw.invalidate()
        if ok:
            raise
    finally:
        raw.close()


def _run(
    conn: psycopg.Connection,
    client: SourceClient,
    spec: EntitySpec,
    tenant_id: int,
    full: bool,
    on_page: Callable[[PageProgress], None] | None,
    run_id: str | None,
    include_recent_changes: bool,
) -> _Run:
    state = sync_state.get_state(conn, spec.source, tenant_id, spec.name)
    run = _Run(token=state.continuation_token, watermark=state.watermark)
    # Under the advisory lock nobody else writes the tenant's rows of this entity.
    initial = not _has_rows(conn, spec, tenant_id)
    # An initial load into a nearly empty table builds the search indexes after it.
    deferred = defer_search_indexes(conn, spec.qualified, initial=initial)
    try:
        return _load(
            conn,
            client,
            spec,
            tenant_id,
            full,
            on_page,
            run_id,
            include_recent_changes,
            state,
            run,
            initial,
        )
    finally:
        if deferred:
            build_search_indexes(conn, spec.qualified)


def _load(
    conn: psycopg.Connection,
    client: SourceClient,
    spec: EntitySpec,
    tenant_id: int,
    full: bool,
    on_page: Callable[[PageProgress], None] | None,
    run_id: str | None,
    include_recent_changes: bool,
    state: sync_state.SyncState,
    run: _Run,
    initial: bool,
) -> _Run:
    track_seen = full and not initial
    if full:
        with conn.transaction():
            sync_state.mark_full_sync_started(conn, spec.source, tenant_id, spec.name)
        if track_seen:
            ensure_seen_table(conn)

    def prepared(page: Any) -> tuple[Any, PreparedBatch]:
        return page, prepare_batch(spec, page.records, direct=initial)

    def pipeline(source: Iterator[Any]) -> Iterator[tuple[Any, PreparedBatch]]:
        """Three stages on three threads: fetch and decode, validate and build the COPY lines,
        load. Each waits on something else for much of its time (the API, the GIL, PostgreSQL),
        so the slowest stage alone sets the pace; a page of lead per stage bounds the memory."""
        return prefetch(prefetch(source, depth=1), depth=1, transform=prepared)

    # The page loaded last. Freeing a page of records holds the GIL for a while; done between
    # two pages, PostgreSQL waited that out, so it is done while PostgreSQL takes the next one.
    retired: list[Any] = []

    def commit_page(page: Any, batch: PreparedBatch, token: str | None) -> None:
        """Load one page; for the export feed, store its token (and the newest modifiedOn
        seen, which freshness checks read) in the same transaction."""
        with conn.transaction():
            # Durability of the newest pages may lag a server crash by a moment; atomicity does
            # not: rows and token are lost or kept together, and a lost page is read again.
            conn.execute("set local synchronous_commit = off")
            loaded = load_records(
                conn,
                spec,
                tenant_id,
                batch,
                run_id=run_id,
                track_seen=track_seen,
                direct=initial,
                while_copying=retired.clear,
            )
            if token is not None:
                sync_state.save_token(conn, spec.source, tenant_id, spec.name, token)
                newest = loaded.max_modified_on
                if newest is not None and (run.watermark is None or newest > run.watermark):
                    sync_state.save_watermark(conn, spec.source, tenant_id, spec.name, newest)
                    run.watermark = newest
                run.token = token
        retired[:] = (page, batch)
        run.total = run.total + loaded
        run.pages += 1
        if on_page is not None:
            on_page(
                PageProgress(
                    entity=spec.name,
                    tenant_id=tenant_id,
                    page=run.pages,
                    records=len(page.records),
                    inserted=loaded.inserted,
                    updated=loaded.updated,
                    unchanged=loaded.unchanged,
                    rejected=loaded.rejected,
                    total_records=run.total.records,
                    has_more=bool(page.has_more),
                )
            )

    if spec.kind == "export":
        pages = client.export(
            spec.module,
            spec.resource,
            from_token=None if full else state.continuation_token,
            include_recent_changes=include_recent_changes,
        )
        for page, batch in pipeline(pages):
            commit_page(page, batch, page.continue_from)
    else:
        params: dict[str, Any] = {"active": "Any"}
        if not full and state.watermark is not None:
            params["modifiedOnOrAfter"] = _iso(state.watermark)
        listed = client.iter_list(spec.module, spec.resource, params)
        for page, batch in pipeline(listed):
            commit_page(page, batch, None)
        newest = run.total.max_modified_on
        if newest is not None and (run.watermark is None or newest > run.watermark):
            run.watermark = newest
            with conn.transaction():
                sync_state.save_watermark(conn, spec.source, tenant_id, spec.name, newest)

    if full:
        with conn.transaction():
            if track_seen:
                run.deleted = _soft_delete_unseen(conn, spec, tenant_id)
            sync_state.mark_full_sync_finished(conn, spec.source, tenant_id, spec.name)
    return run


def _has_rows(conn: psycopg.Connection, spec: EntitySpec, tenant_id: int) -> bool:
    """Whether the tenant has any row (soft-deleted ones included) in the entity's table."""
    row = conn.execute(
        f"select exists (select 1 from {spec.qualified} where tenant_id = %s)", (tenant_id,)
    ).fetchone()
    return bool(row and row[0])


def _soft_delete_unseen(conn: psycopg.Connection, spec: EntitySpec, tenant_id: int) -> int:
    """Mark deleted the tenant's live rows that the full refresh did not see."""
    cur = conn.execute(
        f"update {spec.qualified} as t set deleted_at = now() "
        "where t.tenant_id = %s and t.deleted_at is null "
        f"and not exists (select 1 from pg_temp.{SEEN_TABLE} s where s.id = t.id) "
        "returning t.id",
        (tenant_id,),
    )
    gone = [row[0] for row in cur.fetchall()]
    for child in spec.children:
        if gone:
            conn.execute(
                f"update {child.qualified} set deleted_at = now() "
                f"where tenant_id = %s and {child.parent_column} = any(%s) "
                "and deleted_at is null",
                (tenant_id, gone),
            )
    return len(gone)
