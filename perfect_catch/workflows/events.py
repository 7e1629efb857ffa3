"""Reading `events.workflow_events`, the append-only relation dbt builds from the raw tables.

`event_seq` increases with every event recorded, so a reader keeps the last one it handled as
its cursor and asks only for what came after. Before dbt has built the relation there is simply
nothing to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

RELATION = "events.workflow_events"


@dataclass(frozen=True)
class Event:
    """One row of `events.workflow_events`."""

    event_seq: int
    event_id: str
    event_type: str
    occurred_at: datetime | None
    tenant_id: int
    customer_id: int | None
    job_id: int | None
    estimate_id: int | None
    invoice_id: int | None
    appointment_id: int | None
    payload: dict[str, Any]
    is_backfill: bool


def relation_exists(conn: sa.Connection) -> bool:
    return conn.execute(sa.text("select to_regclass(:r) is not null"), {"r": RELATION}).scalar()


def read_events(conn: sa.Connection, after_seq: int, limit: int) -> list[Event]:
    """Events with `event_seq` > `after_seq`, oldest first, at most `limit`."""
    if not relation_exists(conn):
        return []
    rows = conn.execute(
        sa.text(
            "select event_seq, event_id, event_type, occurred_at, tenant_id, customer_id, job_id,"
            " estimate_id, invoice_id, appointment_id, payload, coalesce(is_backfill, false)"
            f" as is_backfill from {RELATION} where event_seq > :after"
            " order by event_seq limit :limit"
        ),
        {"after": after_seq, "limit": limit},
    ).mappings()
    return [Event(**{**dict(row), "payload": dict(row["payload"] or {})}) for row in rows]


def latest_seq(conn: sa.Connection) -> int:
    """The newest `event_seq` recorded (0 when none)."""
    if not relation_exists(conn):
        return 0
    return int(
        conn.execute(sa.text(f"select coalesce(max(event_seq), 0) from {RELATION}")).scalar()
    )
