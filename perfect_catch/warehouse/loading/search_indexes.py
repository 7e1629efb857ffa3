"""The search indexes of migration 0013, built once after an initial load instead of row by row.

Filing each customer's name and address trigrams into pg_trgm GIN indexes as its row is
written cost a full sync of customers and locations a third to a half of its rate; building the
same index over the loaded table sorts every entry once and takes seconds. So when a table is
nearly empty (every tenant's rows together) as a tenant's initial load begins, these indexes are
dropped and built again when it ends, failed or not. While it runs, a lookup on the table reads
it without them: cheap while it is this small, and the rows being loaded are not there yet for
anyone to find. Incremental syncs and loads into a filled table keep them.

A sync that died before building them again leaves them missing; the next sync of the table
builds whatever is missing first, on a database that has migration 0013's search columns (an
older one has neither the columns nor the indexes, and is left as it is).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

#: Table -> its search indexes (name -> what follows "on <table>"), as migration 0013 creates
#: them (a test compares the definitions PostgreSQL holds after both).
SEARCH_INDEXES: dict[str, dict[str, str]] = {
    "servicetitan.st_customers": {
        "st_customers_name_trgm_idx": "using gin (name gin_trgm_ops)",
        "st_customers_address_trgm_idx": "using gin (address_search gin_trgm_ops)",
    },
    "servicetitan.st_locations": {
        "st_locations_address_trgm_idx": "using gin (address_search gin_trgm_ops)",
    },
    "servicetitan.st_customer_contacts": {
        "st_customer_contacts_phone_e164_idx": (
            "(tenant_id, phone_e164) where phone_e164 is not null"
        ),
        "st_customer_contacts_phone_last7_idx": (
            "(tenant_id, right(phone_e164, 7)) where phone_e164 is not null"
        ),
        "st_customer_contacts_email_lower_idx": (
            "(tenant_id, email_lower) where email_lower is not null"
        ),
    },
}

#: Table -> the search column of migration 0013 it has once migrated (its indexes come with it).
MARKERS: dict[str, str] = {
    "servicetitan.st_customers": "address_search",
    "servicetitan.st_locations": "address_search",
    "servicetitan.st_customer_contacts": "phone_e164",
}

#: Below this many rows (all tenants) a table is nearly empty: its search indexes are rebuilt
#: after an initial load into it, and a lookup reads it whole meanwhile in a few milliseconds.
NEARLY_EMPTY = 10_000

#: Memory for building an index at the end of a load: enough to sort a million customers'
#: entries in memory rather than in temporary files.
BUILD_MEMORY = "256MB"


def _schema_and_name(table: str) -> tuple[str, str]:
    schema, _, name = table.partition(".")
    return schema, name


def _present(conn: psycopg.Connection, table: str) -> set[str]:
    schema, name = _schema_and_name(table)
    return {
        row[0]
        for row in conn.execute(
            "select indexname from pg_indexes where schemaname = %s and tablename = %s",
            (schema, name),
        )
    }


def _migrated(conn: psycopg.Connection, table: str) -> bool:
    schema, name = _schema_and_name(table)
    row = conn.execute(
        "select exists (select 1 from information_schema.columns"
        " where table_schema = %s and table_name = %s and column_name = %s)",
        (schema, name, MARKERS[table]),
    ).fetchone()
    return bool(row and row[0])


def defer_search_indexes(conn: psycopg.Connection, table: str, *, initial: bool) -> bool:
    """Before a load into `table`: for a tenant's `initial` load into a nearly empty table, drop
    its search indexes, for `build_search_indexes` to build after the load (True); otherwise
    build any missing (False). Commits on its own."""
    indexes = SEARCH_INDEXES.get(table)
    if not indexes or not _migrated(conn, table):
        return False
    if not initial:
        build_search_indexes(conn, table)
        return False
    schema, name = _schema_and_name(table)
    with conn.transaction():
        row = conn.execute(
            sql.SQL("select count(*) from (select 1 from {} limit %s) t").format(
                sql.Identifier(schema, name)
            ),
            (NEARLY_EMPTY,),
        ).fetchone()
        if row is None or row[0] >= NEARLY_EMPTY:
            nearly_empty = False
        else:
            nearly_empty = True
            for index in indexes:
                conn.execute(
                    sql.SQL("drop index if exists {}").format(sql.Identifier(schema, index))
                )
    if not nearly_empty:
        build_search_indexes(conn, table)
    return nearly_empty


def build_search_indexes(conn: psycopg.Connection, table: str) -> None:
    """Build `table`'s missing search indexes. Commits on its own. (The planner's statistics of
    the table just loaded are autovacuum's to refresh: an `analyze` here cost a third of a
    second per 100,000 rows.)"""
    indexes = SEARCH_INDEXES.get(table, {})
    schema, name = _schema_and_name(table)
    present = _present(conn, table)
    missing = {index: target for index, target in indexes.items() if index not in present}
    if not missing:
        return
    with conn.transaction():
        conn.execute(
            sql.SQL("set local maintenance_work_mem = {}").format(sql.Literal(BUILD_MEMORY))
        )
        for index, target in missing.items():
            # The definitions are this module's constants, not input.
            conn.execute(
                sql.SQL("create index if not exists {} on {} {}").format(
                    sql.Identifier(index), sql.Identifier(schema, name), sql.SQL(target)
                )
            )
