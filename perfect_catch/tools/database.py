"""Reading the warehouse: `query_database` and the schema description that goes with it.

`query_database` runs a model's SQL, so it is built to be unable to change anything whatever the
SQL says. In order of strength:

1. a SELECT-only role (`perfect_catch_readonly`, migration 0004) taken with `SET LOCAL ROLE`;
2. a READ ONLY transaction that is always rolled back, with statement and lock timeouts;
3. a server-side cursor: the SQL is sent as `DECLARE ... CURSOR FOR <sql>` over the extended
   protocol, which accepts exactly one query and no data-modifying statement;
4. `sql_guard.check_query`, which refuses everything else up front with a clear message.

Rows are fetched up to a cap (plus one, to know whether the result was cut), so a huge result
never leaves the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import pq
from pydantic import BaseModel, ConfigDict, Field

from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.errors import ToolInputError, ToolUnavailable
from perfect_catch.tools.registry import jsonable, tool
from perfect_catch.tools.sql_guard import check_query
from perfect_catch.warehouse.catalog import ENTITIES, EntitySpec

READONLY_ROLE = "perfect_catch_readonly"
SEARCH_PATH = "servicetitan, pricebook, integrations, automation, public"
DEFAULT_ROWS = 200
MAX_ROWS = 1000
MAX_CELL_CHARS = 2000
DESCRIBED_SCHEMAS = (
    "servicetitan",
    "pricebook",
    "integrations",
    "automation",
    "public",
    "staging",
    "marts",
    "events",
)


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[dict[str, Any]]
    truncated: bool


def run_readonly_query(
    engine: sa.Engine, sql: str, *, max_rows: int, timeout_seconds: float
) -> QueryResult:
    """Run one query under the read-only role in a rolled-back read-only transaction.

    `sql` should have passed `check_query`; this function does not rely on it.
    """
    raw = engine.raw_connection()
    conn: psycopg.Connection = raw.driver_connection  # type: ignore[assignment]
    autocommit = conn.autocommit
    timeout_ms = str(max(1, int(timeout_seconds * 1000)))
    try:
        if conn.info.transaction_status != pq.TransactionStatus.IDLE:
            conn.rollback()
        conn.autocommit = False
        conn.execute("set transaction isolation level repeatable read, read only")
        try:
            conn.execute(f"set local role {READONLY_ROLE}")
        except (psycopg.errors.UndefinedObject, psycopg.errors.InsufficientPrivilege):
            raise ToolUnavailable(
                f"the database role {READONLY_ROLE} is missing or not granted to this login; "
                "run `perfect-catch db upgrade`"
            ) from None
        conn.execute(
            "select set_config('statement_timeout', %s, true),"
            " set_config('lock_timeout', %s, true),"
            " set_config('idle_in_transaction_session_timeout', %s, true),"
            " set_config('search_path', %s, true)",
            (timeout_ms, timeout_ms, str(int(timeout_ms) + 5000), SEARCH_PATH),
        )
        with conn.cursor(name="pc_query_database") as cursor:
            cursor.execute(sql)
            fetched = cursor.fetchmany(max_rows + 1)
            names = [column.name for column in cursor.description or ()]
    except psycopg.errors.QueryCanceled:
        raise ToolInputError(
            f"the query ran longer than {timeout_seconds:g} s and was cancelled; "
            "filter on indexed columns (tenant_id, id, customer_id, modified_on) or aggregate"
        ) from None
    except psycopg.errors.InsufficientPrivilege as error:
        raise ToolInputError(
            f"permission denied: {_primary(error)}. query_database can only read the warehouse "
            "tables; it cannot write, read server files or change settings"
        ) from None
    except psycopg.errors.ReadOnlySqlTransaction as error:
        raise ToolInputError(
            f"refused: {_primary(error)}. query_database runs in a read-only transaction"
        ) from None
    except psycopg.Error as error:
        raise ToolInputError(f"the database refused the query: {_primary(error)}") from None
    finally:
        _release(raw, conn, autocommit)
    columns = _unique(names)
    rows = [
        {name: _cell(value) for name, value in zip(columns, row, strict=True)}
        for row in fetched[:max_rows]
    ]
    return QueryResult(columns, rows, truncated=len(fetched) > max_rows)


def _primary(error: psycopg.Error) -> str:
    diag = error.diag
    message = diag.message_primary or str(error).splitlines()[0]
    if diag.message_hint:
        message += f" (hint: {diag.message_hint})"
    return message


def _release(raw: Any, conn: psycopg.Connection, autocommit: bool) -> None:
    """Roll back whatever happened and hand the connection back as it came, or discard it.

    Session-level advisory locks survive a rollback, so they are released too (the connection
    is checked out to this call alone)."""
    try:
        if conn.closed or conn.broken:
            raw.invalidate()
            return
        conn.rollback()
        conn.execute("select pg_advisory_unlock_all()")
        conn.rollback()
        conn.autocommit = autocommit
    except psycopg.Error:
        raw.invalidate()
    finally:
        raw.close()


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    result = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        result.append(name if count == 0 else f"{name}_{count + 1}")
    return result


def _cell(value: Any) -> Any:
    value = jsonable(value)
    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
        return value[:MAX_CELL_CHARS] + f"… [{len(value) - MAX_CELL_CHARS} more characters]"
    if isinstance(value, dict | list):
        text = str(value)
        if len(text) > MAX_CELL_CHARS:
            return text[:MAX_CELL_CHARS] + f"… [{len(text) - MAX_CELL_CHARS} more characters]"
    return value


class QueryDatabaseInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sql: str = Field(
        description="Exactly one read-only SELECT (WITH ... SELECT, VALUES and TABLE work too). "
        "Qualify tables with their schema, e.g. servicetitan.st_jobs.",
        min_length=1,
        max_length=20_000,
    )
    max_rows: int = Field(
        DEFAULT_ROWS, ge=1, le=MAX_ROWS, description="Rows to return at most (1-1000)."
    )
    timeout_seconds: float = Field(
        10.0, gt=0, le=30, description="The query is cancelled after this many seconds (max 30)."
    )


@tool("query_database", read_only=True, idempotent=True, title="Query the warehouse (read-only)")
def query_database(context: ToolContext, params: QueryDatabaseInput) -> dict[str, Any]:
    """Run one read-only SQL SELECT on the PostgreSQL warehouse and return the rows.

    The warehouse holds a copy of ServiceTitan (schema servicetitan: st_customers, st_jobs,
    st_appointments, st_estimates, st_invoices, ...; schema pricebook: services, materials,
    equipment), refreshed every few minutes. Read the `warehouse://schema` resource (or call
    describe_warehouse) for tables, columns and their meaning. Every table has tenant_id, id,
    a `raw` jsonb column with the whole API record, modified_on and deleted_at (filter
    `deleted_at is null` for live rows). Money columns are numeric dollars; timestamps are UTC.

    Only a single SELECT runs; writes, stacked statements, transaction control and functions
    with side effects are refused. Results are capped at max_rows; `truncated` says when rows
    were cut, so aggregate or add LIMIT/ORDER BY for large tables.
    """
    sql = check_query(params.sql)
    result = run_readonly_query(
        context.engine, sql, max_rows=params.max_rows, timeout_seconds=params.timeout_seconds
    )
    answer: dict[str, Any] = {
        "columns": result.columns,
        "rows": result.rows,
        "row_count": len(result.rows),
        "truncated": result.truncated,
    }
    if result.truncated:
        answer["note"] = (
            f"only the first {params.max_rows} rows are shown; the query returned more. "
            "Aggregate, filter or raise max_rows (up to 1000)."
        )
    return answer


# --- schema description ---------------------------------------------------------------------


def _catalog_notes() -> dict[str, tuple[EntitySpec, dict[str, str]]]:
    """For every raw table: its entity and, per typed column, the API field it comes from."""
    notes: dict[str, tuple[EntitySpec, dict[str, str]]] = {}
    for spec in ENTITIES:
        origin = {column.name: "raw." + ".".join(column.path) for column in spec.columns}
        notes[spec.qualified] = (spec, origin)
        for child in spec.children:
            child_origin = {
                column.name: f"raw.{child.array_field}[].{'.'.join(column.path)}"
                for column in child.columns
            }
            child_origin[child.parent_column] = f"{spec.table}.id"
            notes[child.qualified] = (spec, child_origin)
    return notes


_STANDARD_COLUMNS = {
    "tenant_id": "ServiceTitan tenant the row belongs to",
    "id": "ServiceTitan id (unique per tenant)",
    "raw": "the whole API record as ServiceTitan sent it (jsonb)",
    "modified_on": "when ServiceTitan last changed the record",
    "synced_at": "when the warehouse last wrote the row",
    "deleted_at": "set once ServiceTitan no longer returns the record (IS NULL: live rows)",
}


def describe_warehouse(engine: sa.Engine, tables: list[str] | None = None) -> str:
    """Markdown description of the warehouse, from information_schema, the comments on tables
    and columns, and the entity catalogue (which API field each typed column comes from)."""
    wanted = {t.lower() for t in tables or []}
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                """
                select c.table_schema, c.table_name, c.column_name, c.data_type,
                       obj_description(format('%I.%I', c.table_schema, c.table_name)::regclass,
                                       'pg_class') as table_comment,
                       col_description(format('%I.%I', c.table_schema, c.table_name)::regclass,
                                       c.ordinal_position::int) as column_comment
                from information_schema.columns c
                join information_schema.tables t
                  on t.table_schema = c.table_schema and t.table_name = c.table_name
                where c.table_schema = any(:schemas) and c.table_name <> 'alembic_version'
                order by c.table_schema, c.table_name, c.ordinal_position
                """
            ),
            {"schemas": list(DESCRIBED_SCHEMAS)},
        ).all()
    notes = _catalog_notes()
    lines = [
        "# Perfect Catch warehouse",
        "",
        "PostgreSQL copy of ServiceTitan and the platform's own tables. Raw ServiceTitan tables",
        "have primary key (tenant_id, id); typed columns are derived from the `raw` jsonb record",
        "(the field each comes from is noted). Money is numeric dollars, timestamps are UTC.",
        "Filter `deleted_at is null` for live rows. Query with the query_database tool.",
    ]
    current = None
    for schema, table, column, data_type, table_comment, column_comment in rows:
        qualified = f"{schema}.{table}"
        if wanted and qualified not in wanted and table not in wanted:
            continue
        spec, origin = notes.get(qualified, (None, {}))
        if qualified != current:
            current = qualified
            lines += ["", f"## {qualified}"]
            about = table_comment or (
                f"ServiceTitan {spec.name} ({spec.module} API, {spec.resource})" if spec else None
            )
            if about:
                lines.append(about)
        parts = [
            part
            for part in (
                column_comment or (_STANDARD_COLUMNS.get(column) if spec else None),
                f"from {origin[column]}" if column in origin else None,
            )
            if part
        ]
        meaning = "; ".join(parts)
        lines.append(f"- {column} {data_type}" + (f": {meaning}" if meaning else ""))
    if wanted and current is None:
        raise ToolInputError(
            "no such table; give schema-qualified names such as servicetitan.st_jobs"
        )
    return "\n".join(lines) + "\n"


class DescribeWarehouseInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tables: list[str] = Field(
        default_factory=list,
        description="Tables to describe (e.g. servicetitan.st_jobs); empty for all.",
    )


@tool("describe_warehouse", read_only=True, idempotent=True, title="Describe warehouse tables")
def describe_warehouse_tool(context: ToolContext, params: DescribeWarehouseInput) -> dict[str, Any]:
    """Describe the warehouse tables and columns (what each column means and which ServiceTitan
    field it comes from). Call it before writing SQL for query_database; pass table names to
    keep the answer short."""
    return {"schema": describe_warehouse(context.engine, params.tables)}
