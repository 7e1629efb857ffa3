"""A psycopg connection from the warehouse engine, in autocommit so each block owns its commit.

The integrations write page by page: each page's rows and the watermark they advance commit
together in one `conn.transaction()`, and a failure after that loses nothing already committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import sqlalchemy as sa


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
