"""The upsert path: COPY a page's rows into a stage table, then one `INSERT ... SELECT ... ON
CONFLICT DO UPDATE` that derives the typed columns in SQL (and replaces the child rows of the
parents it wrote). Set-based, so a page costs a few round trips whatever its size; the update
only happens when the incoming version is not older and actually differs, so replays write
nothing."""

from __future__ import annotations

from datetime import datetime
from functools import cache

import psycopg

from perfect_catch.warehouse.catalog import ChildSpec, EntitySpec
from perfect_catch.warehouse.loading.seen_ids import SEEN_TABLE

_STAGE = "pc_stage"
#: Creates the (empty) stage table of a page; it goes with the transaction at the latest.
CREATE_STAGE = (
    f"create temp table {_STAGE} (id bigint, modified_on timestamptz, raw jsonb) on commit drop"
)
DROP_STAGE = f"drop table pg_temp.{_STAGE}"
# COPY data is handed to psycopg in pieces of this size: fewer calls than one per row, without
# holding a second copy of the whole page.
_COPY_CHUNK = 4 * 1024 * 1024


@cache
def upsert_sql(spec: EntitySpec) -> str:
    """The INSERT ... ON CONFLICT statement for `spec`, reading the stage table."""
    names = [c.name for c in spec.columns]
    target_cols = ", ".join(["tenant_id", "id", *names, "raw", "modified_on", "synced_at"])
    exprs = ", ".join(c.expr("s.raw") for c in spec.columns)
    select_list = ", ".join(
        part for part in ("%(tenant_id)s, s.id", exprs, "s.raw, s.modified_on, now()") if part
    )
    sets = ", ".join(
        f"{name} = excluded.{name}" for name in [*names, "raw", "modified_on", "synced_at"]
    )
    # One round trip: the counts, the newest modifiedOn staged, and (only when child rows must
    # follow) the ids of the rows written.
    written_ids = "array_agg(w.id)" if spec.children else "null::bigint[]"
    returned = "t.id, (t.xmax = 0) as inserted" if spec.children else "(t.xmax = 0) as inserted"
    return (
        f"with w as (insert into {spec.qualified} as t ({target_cols}) "
        f"select {select_list} from pg_temp.{_STAGE} s "
        f"on conflict (tenant_id, id) do update set {sets}, deleted_at = null "
        "where t.modified_on <= excluded.modified_on "
        "and (t.raw is distinct from excluded.raw or t.deleted_at is not null) "
        f"returning {returned}) "
        "select count(*) filter (where w.inserted), count(*), "
        f"(select max(modified_on) from pg_temp.{_STAGE}), {written_ids} from w"
    )


@cache
def child_sql(child: ChildSpec) -> tuple[str, str]:
    """Statements that replace the child rows of the given parent ids from the stage table."""
    names = [c.name for c in child.columns]
    target_cols = ", ".join(
        ["tenant_id", "id", child.parent_column, *names, "raw", "modified_on", "synced_at"]
    )
    exprs = "".join(f", {c.expr('e.value')}" for c in child.columns)
    delete = (
        f"delete from {child.qualified} "
        f"where tenant_id = %(tenant_id)s and {child.parent_column} = any(%(parents)s)"
    )
    sets = ", ".join(
        f"{name} = excluded.{name}"
        for name in [child.parent_column, *names, "raw", "modified_on", "synced_at"]
    )
    insert = (
        f"insert into {child.qualified} as t ({target_cols}) "
        f"select distinct on ((e.value ->> 'id')::bigint) "
        f"%(tenant_id)s, (e.value ->> 'id')::bigint, s.id{exprs}, e.value, "
        "coalesce((e.value ->> 'modifiedOn')::timestamptz, s.modified_on), now() "
        f"from pg_temp.{_STAGE} s "
        f"cross join lateral jsonb_array_elements("
        f"case when jsonb_typeof(s.raw -> '{child.array_field}') = 'array' "
        f"then s.raw -> '{child.array_field}' else '[]'::jsonb end) as e(value) "
        "where s.id = any(%(parents)s) "
        "order by (e.value ->> 'id')::bigint, s.modified_on desc "
        f"on conflict (tenant_id, id) do update set {sets}, deleted_at = null"
    )
    return delete, insert


def upsert(
    conn: psycopg.Connection,
    spec: EntitySpec,
    tenant_id: int,
    rows: dict[int, tuple[str, bytes]],
    track_seen: bool,
) -> tuple[int, int, datetime | None]:
    """Stage `rows` in the (empty) stage table and upsert them (and their child rows):
    (inserted, updated, newest)."""
    with conn.cursor() as cur:
        with cur.copy(f"copy pg_temp.{_STAGE} (id, modified_on, raw) from stdin") as copy:
            buffer: list[bytes] = []
            size = 0
            for _, line in rows.values():
                buffer.append(line)
                size += len(line)
                if size >= _COPY_CHUNK:
                    copy.write(b"".join(buffer))
                    buffer.clear()
                    size = 0
            if buffer:
                copy.write(b"".join(buffer))
        cur.execute(upsert_sql(spec), {"tenant_id": tenant_id})
        counts = cur.fetchone()
        assert counts is not None
        inserted, written, newest, parents = counts
        if spec.children and parents:
            for child in spec.children:
                delete, insert = child_sql(child)
                cur.execute(delete, {"tenant_id": tenant_id, "parents": parents})
                cur.execute(insert, {"tenant_id": tenant_id, "parents": parents})
        if track_seen:
            cur.execute(
                f"insert into pg_temp.{SEEN_TABLE} select id from pg_temp.{_STAGE} "
                "on conflict do nothing"
            )
    return inserted, written - inserted, newest
