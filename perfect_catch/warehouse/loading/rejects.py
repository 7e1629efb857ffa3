"""Records that were not loaded: what is kept of each and how it is written to
`public.sync_rejects`, so that one bad record is reported with a reason instead of failing its
page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg

from perfect_catch.warehouse.catalog import EntitySpec

# A reject keeps its record for whoever reads the reason, but one huge record must not make the
# rejects table the largest in the warehouse.
_MAX_REJECT_RAW = 1_000_000


@dataclass(frozen=True)
class Reject:
    """A record that was not loaded, as written to `public.sync_rejects`."""

    record_id: str | None
    reason: str
    raw: str


def reject_raw(record: Any) -> str:
    """The record as text `sync_rejects.raw` can hold: JSON if it is JSON, NULs escaped."""
    try:
        text = orjson.dumps(record).decode()
    except TypeError:
        text = repr(record)
    return text.replace("\x00", "\\u0000")[:_MAX_REJECT_RAW]


def write_rejects(
    conn: psycopg.Connection,
    spec: EntitySpec,
    tenant_id: int,
    rejects: Sequence[Reject],
    run_id: str | None,
) -> None:
    """Record rejects in `public.sync_rejects` (in the caller's transaction)."""
    if not rejects:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "insert into public.sync_rejects "
            "(source, tenant_id, entity, record_id, reason, raw, run_id) "
            "values (%s, %s, %s, %s, %s, %s, %s)",
            [
                (spec.source, str(tenant_id), spec.name, r.record_id, r.reason, r.raw, run_id)
                for r in rejects
            ],
        )
