"""The session's table of ids a full refresh has seen, from which it finds the rows the source
no longer returns: every id of a loaded page goes in, rejected ones included, so that a record
that merely failed its checks is not taken for deleted."""

from __future__ import annotations

import psycopg

SEEN_TABLE = "pc_seen_ids"


def ensure_seen_table(conn: psycopg.Connection) -> None:
    """Create (empty) the session's table of ids seen by a full refresh."""
    conn.execute(f"create temp table if not exists {SEEN_TABLE} (id bigint primary key)")
    conn.execute(f"truncate pg_temp.{SEEN_TABLE}")


def add_seen(conn: psycopg.Connection, ids: list[int]) -> None:
    """Add `ids` to the seen-ids table (in the caller's transaction)."""
    conn.execute(
        f"insert into pg_temp.{SEEN_TABLE} select unnest(%s::bigint[]) on conflict do nothing",
        (ids,),
    )
