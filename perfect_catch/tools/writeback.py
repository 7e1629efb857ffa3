"""Reflecting a ServiceTitan write in the warehouse right away.

After a write, the record ServiceTitan returned is upserted through the loader (the same
idempotent, never-go-back-in-time upsert the sync uses), and the entities the write touched on
the side (a new job's appointments and assignments) are pulled with an incremental sync. A sync
already running elsewhere is not waited for: the change then shows up with that sync.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

from perfect_catch.connectors.servicetitan import ServiceTitanClient, ServiceTitanError
from perfect_catch.tools.context import ToolContext
from perfect_catch.warehouse.catalog import get_entity
from perfect_catch.warehouse.loading.load import load_records
from perfect_catch.warehouse.sync import SyncAlreadyRunning, sync_entity


def upsert(context: ToolContext, entity: str, tenant_id: int, records: Iterable[Any]) -> None:
    """Upsert API `records` of `entity` into its raw table, in one transaction."""
    batch = [r for r in records if isinstance(r, dict)]
    if not batch:
        return
    raw = context.engine.raw_connection()
    try:
        conn: psycopg.Connection = raw.driver_connection  # type: ignore[assignment]
        with conn.transaction():
            load_records(conn, get_entity(entity), tenant_id, batch, run_id="tool-write")
        conn.commit()
    finally:
        raw.close()


def fetch(
    context: ToolContext, tenant_id: int, entity: str, module: str, path: str
) -> dict[str, Any] | None:
    """GET one record from ServiceTitan and upsert it; None when ServiceTitan has no such
    record (a read tool falls back here when the warehouse has not synced it yet)."""
    with context.servicetitan(tenant_id) as client:
        try:
            record = client.get(module, path)
        except ServiceTitanError as error:
            if error.status == 404:
                return None
            raise
    if isinstance(record, dict):
        upsert(context, entity, tenant_id, [record])
        return record
    return None


def reflect(
    context: ToolContext,
    client: ServiceTitanClient,
    tenant_id: int,
    *,
    entity: str | None = None,
    record: dict[str, Any] | None = None,
    resync: Iterable[str] = (),
) -> dict[str, Any]:
    """Upsert `record` (of `entity`) and incrementally sync `resync`; report what happened."""
    if entity is not None and record is not None:
        upsert(context, entity, tenant_id, [record])
    synced, pending = [], []
    for name in resync:
        try:
            sync_entity(context.engine, client, get_entity(name), tenant_id, run_id="tool-write")
            synced.append(name)
        except SyncAlreadyRunning:
            pending.append(name)
    report: dict[str, Any] = {"warehouse_updated": True, "synced": synced}
    if pending:
        report["pending"] = pending
        report["note"] = (
            "a sync of " + ", ".join(pending) + " is running; those rows appear when it ends"
        )
    return report


def written_record(answer: Any) -> dict[str, Any] | None:
    """ServiceTitan's answer to a write when it is the record written (an object with an id),
    for `reflect` to upsert; None otherwise, and the resync brings the change instead."""
    return answer if isinstance(answer, dict) and answer.get("id") else None
