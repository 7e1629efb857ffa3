"""The savepoint both ways into a table write inside, so that a page PostgreSQL refuses leaves
the caller's transaction as it was and can be taken again another way."""

from __future__ import annotations

import psycopg
from psycopg import pq

SAVEPOINT = "pc_load"
#: Opens a page's write: the zone ST means when a timestamp has no offset, then the savepoint.
#: Statements without parameters share a round trip, so callers append theirs to it.
BEGIN = f"set local time zone 'UTC'; savepoint {SAVEPOINT}"
_OPEN = (pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR)


def roll_back(conn: psycopg.Connection) -> None:
    """Undo the page's write after a failure, where the server still allows it (the connection
    is not broken and its transaction still open)."""
    if not conn.broken and conn.info.transaction_status in _OPEN:
        conn.execute(f"rollback to savepoint {SAVEPOINT}")
