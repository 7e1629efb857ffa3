"""How many rows a raw table holds, for the `dagster/row_count` metadata ("Row count" in the
Dagster UI): rows in the table, not the records one run happened to write (0 on a quiet run)."""

from __future__ import annotations

import sqlalchemy as sa


def table_rows(
    engine: sa.Engine, qualified: str, *, tenant_id: int | None = None, live_only: bool = False
) -> int:
    """Rows of `schema.table` (a name from the catalogue or a definition, never user input):
    of one tenant when `tenant_id` is given, without soft-deleted rows when `live_only`."""
    schema, _, name = qualified.rpartition(".")
    table = sa.table(name, sa.column("tenant_id"), sa.column("deleted_at"), schema=schema or None)
    query = sa.select(sa.func.count()).select_from(table)
    if tenant_id is not None:
        query = query.where(table.c.tenant_id == tenant_id)
    if live_only:
        query = query.where(table.c.deleted_at.is_(None))
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())
