"""The search indexes of an initial load into a nearly empty table: built after it, as the
migration defines them, even when the load fails; kept through other loads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from perfect_catch.tools.lookup import find_customers
from perfect_catch.warehouse import migrate
from perfect_catch.warehouse.loading import search_indexes
from perfect_catch.warehouse.loading.search_indexes import SEARCH_INDEXES
from perfect_catch.warehouse.sync import PageProgress, sync_entity
from tests.warehouse.test_sync_engine import CUSTOMERS, TENANT, FakeExportClient, Page

TABLE = "servicetitan.st_customers"
TRIGRAMS = set(SEARCH_INDEXES[TABLE])


def definitions(engine: sa.Engine, table: str = TABLE) -> dict[str, str]:
    """The search indexes PostgreSQL holds on `table`, by name."""
    schema, name = table.split(".")
    with engine.connect() as conn:
        found = conn.execute(
            sa.text(
                "select indexname, indexdef from pg_indexes"
                " where schemaname = :schema and tablename = :name"
            ),
            {"schema": schema, "name": name},
        )
        return {
            row.indexname: row.indexdef for row in found if row.indexname in SEARCH_INDEXES[table]
        }


def client_of(count: int) -> FakeExportClient:
    client = FakeExportClient(page_size=2)
    for cid in range(1, count + 1):
        client.upsert(cid, f"2024-05-01T00:00:{cid:02d}Z", name=f"Quentin Ashgrove{cid}")
    return client


def test_an_initial_load_builds_the_migrations_indexes_after_it(engine: sa.Engine) -> None:
    by_migration = {table: definitions(engine, table) for table in SEARCH_INDEXES}
    assert all(set(found) == set(SEARCH_INDEXES[t]) for t, found in by_migration.items())
    during: list[set[str]] = []

    def on_page(progress: PageProgress) -> None:
        during.append(set(definitions(engine)))

    result = sync_entity(engine, client_of(5), CUSTOMERS, TENANT, on_page=on_page)
    assert result.inserted == 5
    assert during and all(not found for found in during)
    assert definitions(engine) == by_migration[TABLE]
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as raw:
        for table in SEARCH_INDEXES:
            # Every table's indexes, dropped and built again, as the migration wrote them.
            assert search_indexes.defer_search_indexes(raw, table, initial=True)
            assert not definitions(engine, table)
            search_indexes.build_search_indexes(raw, table)
            assert definitions(engine, table) == by_migration[table], table
    with engine.connect() as conn:
        found = find_customers(conn, TENANT, name="Ashgrove3")
        assert [c["id"] for c in found] == [3]


def test_a_failed_initial_load_still_builds_them(engine: sa.Engine) -> None:
    before = definitions(engine)
    client = client_of(7)
    real_export = client.export

    def broken_export(*args: Any, **kwargs: Any) -> Iterator[Page]:
        for number, page in enumerate(real_export(*args, **kwargs)):
            if number == 2:
                raise ConnectionError("HTTP 503 after retries")
            yield page

    client.export = broken_export  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        sync_entity(engine, client, CUSTOMERS, TENANT)
    assert definitions(engine) == before


def test_a_load_into_a_filled_table_keeps_them_and_builds_missing_ones(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_indexes, "NEARLY_EMPTY", 1)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                """insert into servicetitan.st_customers
                     (tenant_id, id, name, raw, modified_on, synced_at)
                   values (:tenant, 99, 'Other Tenant', '{}', now(), now())"""
            ),
            {"tenant": TENANT + 1},
        )
        conn.execute(sa.text("drop index servicetitan.st_customers_name_trgm_idx"))
    during: list[set[str]] = []
    sync_entity(
        engine,
        client_of(5),
        CUSTOMERS,
        TENANT,
        on_page=lambda progress: during.append(set(definitions(engine))),
    )
    assert during and all(found == TRIGRAMS for found in during)


def test_a_database_without_the_search_columns_is_left_as_it_is(engine: sa.Engine) -> None:
    migrate.downgrade(engine, "0010_owed_and_close_rate")
    assert sync_entity(engine, client_of(3), CUSTOMERS, TENANT).inserted == 3
    assert not definitions(engine)
