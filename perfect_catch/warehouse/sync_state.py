"""Read and write `public.sync_state`: where each (source, tenant, entity) sync left off.

Every writer takes the caller's psycopg connection and runs in the caller's transaction, so the
token of a page commits or rolls back together with that page's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row


@dataclass(frozen=True)
class SyncState:
    """One row of `public.sync_state`."""

    source: str
    tenant_id: str
    entity: str
    continuation_token: str | None = None
    watermark: datetime | None = None
    full_sync_started_at: datetime | None = None
    last_full_sync_at: datetime | None = None
    updated_at: datetime | None = None


_KEY = "source = %(source)s and tenant_id = %(tenant_id)s and entity = %(entity)s"


def _key(source: str, tenant_id: int | str, entity: str) -> dict[str, str]:
    return {"source": source, "tenant_id": str(tenant_id), "entity": entity}


def get_state(
    conn: psycopg.Connection, source: str, tenant_id: int | str, entity: str
) -> SyncState:
    """The stored state, or an empty one (no token, no watermark) for a first sync."""
    with conn.cursor(row_factory=class_row(SyncState)) as cur:
        cur.execute(
            "select source, tenant_id, entity, continuation_token, watermark, "
            f"full_sync_started_at, last_full_sync_at, updated_at from public.sync_state "
            f"where {_KEY}",
            _key(source, tenant_id, entity),
        )
        row = cur.fetchone()
    return row or SyncState(source, str(tenant_id), entity)


def _upsert(
    conn: psycopg.Connection,
    source: str,
    tenant_id: int | str,
    entity: str,
    column: str,
    value: object,
) -> None:
    # `column` is one of this module's literals, never input.
    conn.execute(
        f"insert into public.sync_state (source, tenant_id, entity, {column}, updated_at) "
        "values (%(source)s, %(tenant_id)s, %(entity)s, %(value)s, now()) "
        "on conflict (source, tenant_id, entity) do update "
        f"set {column} = excluded.{column}, updated_at = now()",
        {**_key(source, tenant_id, entity), "value": value},
    )


def save_token(
    conn: psycopg.Connection, source: str, tenant_id: int | str, entity: str, token: str | None
) -> None:
    """Store the export continuation token reached."""
    _upsert(conn, source, tenant_id, entity, "continuation_token", token)


def save_watermark(
    conn: psycopg.Connection, source: str, tenant_id: int | str, entity: str, watermark: datetime
) -> None:
    """Store the newest `modifiedOn` loaded (list-only entities page from it)."""
    _upsert(conn, source, tenant_id, entity, "watermark", watermark)


def mark_full_sync_started(
    conn: psycopg.Connection, source: str, tenant_id: int | str, entity: str
) -> datetime:
    """Record the start of a full refresh; returns the database time it was recorded at."""
    row = conn.execute("select now()").fetchone()
    assert row is not None
    _upsert(conn, source, tenant_id, entity, "full_sync_started_at", row[0])
    return row[0]


def mark_full_sync_finished(
    conn: psycopg.Connection, source: str, tenant_id: int | str, entity: str
) -> None:
    """Record that a full refresh ran to the end."""
    conn.execute(
        f"update public.sync_state set last_full_sync_at = now(), updated_at = now() where {_KEY}",
        _key(source, tenant_id, entity),
    )
