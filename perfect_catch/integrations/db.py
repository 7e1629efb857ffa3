"""A psycopg connection from the warehouse engine, in autocommit so each block owns its commit.

The integrations write page by page: each page's rows and the watermark they advance commit
together in one `conn.transaction()`, and a failure after that loses nothing already committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import psycopg
import sqlalchemy as sa
from psycopg.rows import dict_row


@contextmanager
def connection(engine: sa.Engine) -> Iterator[psycopg.Connection]:
    """A pooled psycopg connection in autocommit mode, handed back to the pool afterwards."""
    raw = engine.raw_connection()
    conn: psycopg.Connection = raw.driver_connection  # type: ignore[assignment]
    previous = conn.autocommit
    try:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.rollback()
        conn.autocommit = True
        yield conn
    finally:
        try:
            conn.autocommit = previous
        finally:
            raw.close()


def fetch_one(
    conn: psycopg.Connection, sql: str, params: tuple | dict[str, Any]
) -> dict[str, Any] | None:
    """The first row of `sql` as a dict (None when there is none)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def fetch_all(
    conn: psycopg.Connection, sql: str, params: tuple | dict[str, Any]
) -> list[dict[str, Any]]:
    """Every row of `sql` as dicts."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def write_reject(
    conn: psycopg.Connection,
    source: str,
    tenant: str,
    entity: str,
    record: object,
    reason: str,
) -> None:
    """Record a record that cannot be loaded in `public.sync_rejects`; the sync goes on."""
    record_id = record.get("id") if isinstance(record, dict) else None
    conn.execute(
        "insert into public.sync_rejects (source, tenant_id, entity, record_id, reason, raw) "
        "values (%s, %s, %s, %s, %s, %s)",
        (
            source,
            tenant,
            entity,
            None if record_id is None else str(record_id),
            reason[:1000],
            orjson.dumps(record, default=str).decode()[:1_000_000],
        ),
    )
