"""`load_records`, the loader's entry: one page of records into its raw table, by the direct
COPY of an initial load or the upsert, with rejects and seen ids recorded in the same
transaction (the caller's, where the sync engine also stores its continuation token)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import pq

from perfect_catch.warehouse.catalog import EntitySpec
from perfect_catch.warehouse.loading import direct_copy
from perfect_catch.warehouse.loading.batch import PreparedBatch, prepare_batch, recheck
from perfect_catch.warehouse.loading.rejects import write_rejects
from perfect_catch.warehouse.loading.savepoint import BEGIN, SAVEPOINT, roll_back
from perfect_catch.warehouse.loading.seen_ids import add_seen
from perfect_catch.warehouse.loading.staged_upsert import CREATE_STAGE, DROP_STAGE, upsert


@dataclass(frozen=True)
class LoadResult:
    """What one load did. `unchanged` counts valid records that wrote nothing (same or older)."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    max_modified_on: datetime | None = None

    @property
    def records(self) -> int:
        return self.inserted + self.updated + self.unchanged + self.rejected

    def __add__(self, other: LoadResult) -> LoadResult:
        newest = [m for m in (self.max_modified_on, other.max_modified_on) if m is not None]
        return LoadResult(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.rejected + other.rejected,
            max(newest) if newest else None,
        )


def load_records(
    conn: psycopg.Connection,
    spec: EntitySpec,
    tenant_id: int,
    records: Iterable[Any],
    *,
    run_id: str | None = None,
    track_seen: bool = False,
    direct: bool = False,
    while_copying: Callable[[], None] | None = None,
) -> LoadResult:
    """Upsert `records` of `spec` for `tenant_id` in the caller's open transaction.

    Invalid records go to `public.sync_rejects`; the rest load. `records` may be a
    `PreparedBatch` (from `prepare_batch`, run elsewhere beforehand). The transaction's time zone
    is set to UTC (`SET LOCAL`), the zone ST means when a timestamp has no offset. With
    `track_seen`, every id of this batch (rejected ones included) is added to the session's
    seen-ids table that a full refresh uses to find what the source no longer returns (see
    `seen_ids.ensure_seen_table`).

    `direct` is for an initial load, when the tenant had no rows in the target table as the
    caller began: then a page whose records are all plainly valid (the batch was prepared with
    `direct=True`) is COPYed straight into the target table, typed columns written from Python,
    inside a savepoint. Any row already there (a record the feed repeats) makes the COPY fail
    with a unique violation, and a value PostgreSQL refuses with a data error: either way the
    page is rolled back to the savepoint and loaded by the upsert path, so the outcome is the
    same as without `direct`. Every row a successful COPY writes is new: all are `inserted`.

    `while_copying`, if given, is called once the rows of a direct COPY are sent, while
    PostgreSQL takes them in and this thread would only wait (the sync engine frees the previous
    page then).
    """
    if conn.autocommit and conn.info.transaction_status == pq.TransactionStatus.IDLE:
        raise ValueError("load_records needs an open transaction (use conn.transaction())")
    batch = (
        records
        if isinstance(records, PreparedBatch)
        else prepare_batch(spec, records, direct=direct)
    )
    counts: tuple[int, int, datetime | None] = (0, 0, None)
    copied = (
        direct
        and batch.direct is not None
        and direct_copy.copy_direct(conn, spec, tenant_id, batch, while_copying)
    )
    if copied:
        counts = (len(batch.rows), 0, batch.newest)
        if track_seen:
            add_seen(conn, list(batch.rows))
    elif batch.rows:
        # Statements without parameters share a round trip.
        conn.execute(f"{BEGIN}; {CREATE_STAGE}")
        try:
            try:
                counts = upsert(conn, spec, tenant_id, batch.rows, track_seen)
            except psycopg.DataError:
                # A value the fast path passed on that PostgreSQL refuses (an integer out of
                # range, say): take the page again with every record fully checked, which
                # rejects it.
                if batch.checked:
                    raise
                conn.execute(f"rollback to savepoint {SAVEPOINT}; {CREATE_STAGE}")
                batch = recheck(spec, batch)
                if batch.rows:
                    counts = upsert(conn, spec, tenant_id, batch.rows, track_seen)
        except BaseException:
            # Leave the caller's transaction as it was before this call (no stage table), where
            # the server still allows it.
            roll_back(conn)
            raise
        conn.execute(f"{DROP_STAGE}; release savepoint {SAVEPOINT}")
    write_rejects(conn, spec, tenant_id, batch.rejects, run_id)
    if track_seen and batch.rejected_ids:
        add_seen(conn, batch.rejected_ids)
    inserted, updated, newest = counts
    return LoadResult(
        inserted=inserted,
        updated=updated,
        unchanged=len(batch.rows) - inserted - updated,
        rejected=len(batch.rejects),
        max_modified_on=newest,
    )
