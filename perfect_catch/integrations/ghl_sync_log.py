"""One row of `integrations.ghl_sync_log`: the audit trail of both GHL directions.

The push (ST -> GHL) and the pull of customers into ST (GHL -> ST) write the same table, so the
row and its detail limit are written in one place.
"""

from __future__ import annotations

import psycopg


def write_sync_log(
    conn: psycopg.Connection,
    *,
    direction: str,
    action: str,
    tenant_id: int,
    entity: str,
    entity_id: str,
    location_id: str,
    ghl_id: str | None,
    outcome: str,
    detail: str | None,
    run_id: str | None = None,
) -> None:
    """Record one push or pull; the detail is cut to 2000 characters."""
    conn.execute(
        "insert into integrations.ghl_sync_log (direction, action, tenant_id, entity, "
        "entity_id, location_id, ghl_id, outcome, detail, run_id) "
        "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            direction,
            action,
            int(tenant_id),
            entity,
            entity_id,
            location_id,
            ghl_id,
            outcome,
            None if detail is None else detail[:2000],
            run_id,
        ),
    )
