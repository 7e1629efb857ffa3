"""The bulk loader: validation, idempotent upsert, ordering by modifiedOn, child items."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
import sqlalchemy as sa
from psycopg import pq

from perfect_catch.warehouse.catalog import (
    ENTITIES,
    KEY_COLUMNS,
    META_COLUMNS,
    get_entity,
)
from perfect_catch.warehouse.loading import batch as batches
from perfect_catch.warehouse.loading.direct_copy import COPY_SEND_BUFFER, widen_copy_buffer
from perfect_catch.warehouse.loading.direct_fields import compile_typed_fields
from perfect_catch.warehouse.loading.load import LoadResult, load_records
from perfect_catch.warehouse.loading.values import RecordError, parse_timestamp

TENANT = 4242
CUSTOMERS = get_entity("customers")
ESTIMATES = get_entity("estimates")


def customer(cid: int, modified: str = "2024-05-01T10:00:00Z", **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": cid,
        "active": True,
        "name": f"Customer {cid}",
        "type": "Residential",
        "address": {"street": "1 Pool Rd", "city": "Tampa", "state": "FL", "zip": "33601"},
        "balance": 12.5,
        "doNotMail": False,
        "doNotService": False,
        "mergedToId": None,
        "createdOn": "2023-01-01T00:00:00Z",
        "modifiedOn": modified,
    }
    record.update(extra)
    return record


def estimate(eid: int, items: list[dict[str, Any]], modified: str) -> dict[str, Any]:
    return {
        "id": eid,
        "jobId": 9,
        "customerId": 1,
        "locationId": 2,
        "name": "Pool pump",
        "status": {"value": 1, "name": "Open"},
        "subtotal": 100,
        "tax": 7,
        "active": True,
        "createdOn": "2024-01-01T00:00:00Z",
        "modifiedOn": modified,
        "items": items,
    }


def item(iid: int, total: float) -> dict[str, Any]:
    return {
        "id": iid,
        "sku": {"id": 77, "name": "PUMP-1", "type": "Equipment"},
        "description": "Pump",
        "qty": 1,
        "unitRate": total,
        "total": total,
        "createdOn": "2024-01-01T00:00:00Z",
        "modifiedOn": "2024-01-01T00:00:00Z",
    }


def load(engine: sa.Engine, spec, records: list[Any], run_id: str | None = None) -> LoadResult:
    with engine.begin() as sa_conn:
        conn = sa_conn.connection.driver_connection
        assert isinstance(conn, psycopg.Connection)
        return load_records(conn, spec, TENANT, records, run_id=run_id)


def rows(engine: sa.Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params))


def test_parse_timestamp_accepts_seven_fraction_digits_and_offsets() -> None:
    assert parse_timestamp("2024-05-01T10:00:00.1234567Z") == datetime(
        2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC
    )
    assert parse_timestamp("2024-05-01T10:00:00") == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert parse_timestamp("2024-05-01T05:00:00-05:00") == datetime(2024, 5, 1, 10, tzinfo=UTC)
    with pytest.raises(RecordError, match="modifiedOn"):
        parse_timestamp("yesterday", "modifiedOn")
    with pytest.raises(RecordError, match="invalid"):
        parse_timestamp("2024-02-30T00:00:00Z")


def test_insert_then_typed_columns(engine: sa.Engine) -> None:
    result = load(engine, CUSTOMERS, [customer(1, "2024-05-01T10:00:00.1234567Z"), customer(2)])
    assert (result.inserted, result.updated, result.unchanged, result.rejected) == (2, 0, 0, 0)
    (row,) = rows(
        engine,
        "select name, active, balance, city, modified_on, deleted_at, raw ->> 'name' as rn "
        "from servicetitan.st_customers where tenant_id = :t and id = 1",
        t=TENANT,
    )
    assert row.name == "Customer 1" and row.active is True and float(row.balance) == 12.5
    assert row.city == "Tampa" and row.rn == "Customer 1" and row.deleted_at is None
    assert row.modified_on == datetime(2024, 5, 1, 10, 0, 0, 123457, tzinfo=UTC) or (
        row.modified_on == datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
    )


def test_older_version_never_overwrites_newer(engine: sa.Engine) -> None:
    load(engine, CUSTOMERS, [customer(1, "2024-05-02T00:00:00Z", name="New")])
    result = load(engine, CUSTOMERS, [customer(1, "2024-05-01T00:00:00Z", name="Old")])
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, 1)
    (row,) = rows(engine, "select name from servicetitan.st_customers where id = 1")
    assert row.name == "New"
    newer = load(engine, CUSTOMERS, [customer(1, "2024-05-03T00:00:00Z", name="Newest")])
    assert newer.updated == 1
    (row,) = rows(engine, "select name from servicetitan.st_customers where id = 1")
    assert row.name == "Newest"


def test_unchanged_batch_writes_nothing(engine: sa.Engine) -> None:
    batch = [customer(i) for i in range(1, 51)]
    load(engine, CUSTOMERS, batch)
    before = rows(engine, "select id, synced_at, xmin::text as x from servicetitan.st_customers")
    result = load(engine, CUSTOMERS, batch)
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, 50)
    after = rows(engine, "select id, synced_at, xmin::text as x from servicetitan.st_customers")
    assert sorted(before) == sorted(after)


def test_same_modified_on_but_changed_content_updates(engine: sa.Engine) -> None:
    load(engine, CUSTOMERS, [customer(1, name="A")])
    result = load(engine, CUSTOMERS, [customer(1, name="B")])
    assert result.updated == 1
    assert rows(engine, "select name from servicetitan.st_customers")[0].name == "B"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ([1, 2], "record: expected a JSON object"),
        ({"name": "no id", "modifiedOn": "2024-01-01T00:00:00Z"}, "id: missing"),
        (customer(0, id="17"), "id: expected an integer"),
        (customer(900, modifiedOn=None), "modifiedOn: missing"),
        (customer(901, modifiedOn="not a date"), "modifiedOn: not an ISO 8601"),
        (customer(902, name="bad\x00name"), "name: contains a NUL"),
        (customer(903, address={"street": "x\x00"}), "address.street: contains a NUL"),
        (customer(904, balance="lots"), "balance: expected a number"),
        (customer(905, active="yes"), "active: expected a boolean"),
        (customer(906, mergedToId=1.5), "mergedToId: expected a 64-bit integer"),
        (customer(907, createdOn="2024-13-01T00:00:00Z"), "createdOn: expected an ISO 8601"),
    ],
)
def test_malformed_record_is_rejected_and_the_rest_loads(
    engine: sa.Engine, bad: Any, reason: str
) -> None:
    result = load(engine, CUSTOMERS, [customer(1), bad, customer(2)], run_id="run-1")
    assert (result.inserted, result.rejected) == (2, 1)
    (reject,) = rows(
        engine,
        "select source, tenant_id, entity, record_id, reason, raw, run_id from public.sync_rejects",
    )
    assert reason in reject.reason
    assert (reject.source, reject.tenant_id, reject.entity) == (
        "servicetitan",
        str(TENANT),
        "customers",
    )
    assert reject.run_id == "run-1" and orjson.loads(reject.raw) == bad
    assert "\x00" not in reject.raw
    loaded = rows(engine, "select id from servicetitan.st_customers order by id")
    assert [r.id for r in loaded] == [1, 2]


def test_duplicate_ids_in_one_batch_keep_the_newest(engine: sa.Engine) -> None:
    batch = [
        customer(1, "2024-05-02T00:00:00Z", name="middle"),
        customer(1, "2024-05-03T00:00:00Z", name="newest"),
        customer(1, "2024-05-01T00:00:00Z", name="oldest"),
        customer(2, "2024-05-01T00:00:00Z", name="first"),
        customer(2, "2024-05-01T00:00:00Z", name="repeat, same time"),
    ]
    result = load(engine, CUSTOMERS, batch)
    assert (result.inserted, result.updated) == (2, 0)
    names = dict(rows(engine, "select id, name from servicetitan.st_customers"))
    assert names == {1: "newest", 2: "repeat, same time"}


def test_soft_deleted_row_comes_back(engine: sa.Engine) -> None:
    load(engine, CUSTOMERS, [customer(1)])
    with engine.begin() as conn:
        conn.execute(sa.text("update servicetitan.st_customers set deleted_at = now()"))
    result = load(engine, CUSTOMERS, [customer(1)])
    assert result.updated == 1
    assert rows(engine, "select deleted_at from servicetitan.st_customers")[0].deleted_at is None


def test_estimate_items_are_replaced_when_the_estimate_changes(engine: sa.Engine) -> None:
    load(engine, ESTIMATES, [estimate(10, [item(101, 50), item(102, 60)], "2024-05-01T00:00:00Z")])
    found = rows(
        engine,
        "select id, estimate_id, total, sku_id from servicetitan.st_estimate_items order by id",
    )
    assert [(r.id, r.estimate_id, float(r.total), r.sku_id) for r in found] == [
        (101, 10, 50.0, 77),
        (102, 10, 60.0, 77),
    ]
    load(engine, ESTIMATES, [estimate(10, [item(102, 65), item(103, 5)], "2024-05-02T00:00:00Z")])
    found = rows(engine, "select id, total from servicetitan.st_estimate_items order by id")
    assert [(r.id, float(r.total)) for r in found] == [(102, 65.0), (103, 5.0)]
    # An older version of the estimate touches neither the estimate nor its items.
    load(engine, ESTIMATES, [estimate(10, [], "2024-04-01T00:00:00Z")])
    assert len(rows(engine, "select id from servicetitan.st_estimate_items")) == 2


def test_bad_child_item_rejects_its_parent(engine: sa.Engine) -> None:
    bad = estimate(11, [item(1, 5), {"id": "x"}], "2024-05-01T00:00:00Z")
    result = load(engine, ESTIMATES, [bad, estimate(12, [item(2, 1)], "2024-05-01T00:00:00Z")])
    assert (result.inserted, result.rejected) == (1, 1)
    (reject,) = rows(engine, "select reason from public.sync_rejects")
    assert "items[1].id" in reject.reason


def test_tenants_are_separate(engine: sa.Engine) -> None:
    load(engine, CUSTOMERS, [customer(1)])
    with engine.begin() as sa_conn:
        conn = sa_conn.connection.driver_connection
        other = load_records(conn, CUSTOMERS, 7, [customer(1, name="Other")])
    assert other.inserted == 1
    assert len(rows(engine, "select 1 from servicetitan.st_customers")) == 2


def test_loader_failure_rolls_back_with_the_callers_transaction(engine: sa.Engine) -> None:
    with pytest.raises(RuntimeError), engine.begin() as sa_conn:
        load_records(sa_conn.connection.driver_connection, CUSTOMERS, TENANT, [customer(1)])
        raise RuntimeError("the page failed after loading")
    assert rows(engine, "select id from servicetitan.st_customers") == []


def test_every_entity_loads_a_minimal_record(engine: sa.Engine) -> None:
    for spec in ENTITIES:
        record = {"id": 5, "modifiedOn": "2024-05-01T10:00:00.1234567", "createdOn": None}
        result = load(engine, spec, [record])
        assert result.inserted == 1, spec.name


def test_catalogue_matches_migrated_tables(engine: sa.Engine) -> None:
    def table_columns(schema: str, table: str) -> list[tuple[str, str]]:
        # Generated columns (the search columns) are PostgreSQL's to fill, not the loader's.
        found = rows(
            engine,
            "select column_name, data_type, udt_name from information_schema.columns "
            "where table_schema = :s and table_name = :t and is_generated = 'NEVER' "
            "order by ordinal_position",
            s=schema,
            t=table,
        )
        return [(r.column_name, r.udt_name) for r in found]

    udt = {
        "bigint": "int8",
        "text": "text",
        "numeric": "numeric",
        "boolean": "bool",
        "timestamptz": "timestamptz",
        "date": "date",
        "jsonb": "jsonb",
    }
    for spec in ENTITIES:
        expected = [
            (n, udt[t])
            for n, t in (*KEY_COLUMNS, *((c.name, c.type) for c in spec.columns), *META_COLUMNS)
        ]
        assert table_columns(spec.schema, spec.table) == expected, spec.qualified
        for child in spec.children:
            expected = [
                (n, udt[t])
                for n, t in (
                    *KEY_COLUMNS,
                    (child.parent_column, "bigint"),
                    *((c.name, c.type) for c in child.columns),
                    *META_COLUMNS,
                )
            ]
            assert table_columns(child.schema, child.table) == expected, child.qualified


def test_value_only_postgresql_refuses_falls_back_to_full_checks(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A JSON integer is taken by the fast path and its range left to the bigint cast.
    assert list(batches.prepare_batch(CUSTOMERS, [customer(3, mergedToId=2**63)]).rows) == [3]
    passes: list[bool] = []
    real = batches.build_batch

    def spy(spec: Any, records: Any, fast: bool, **options: Any) -> batches.PreparedBatch:
        passes.append(fast)
        return real(spec, records, fast, **options)

    monkeypatch.setattr(batches, "build_batch", spy)
    batch = [customer(i) for i in range(1, 6)]
    batch.insert(2, customer(33, mergedToId=2**63))
    result = load(engine, CUSTOMERS, batch, run_id="run-2")
    assert passes == [True, False]
    assert (result.inserted, result.updated, result.unchanged, result.rejected) == (5, 0, 0, 1)
    (reject,) = rows(engine, "select record_id, reason, run_id from public.sync_rejects")
    assert reject.record_id == "33" and reject.run_id == "run-2"
    assert "mergedToId: expected a 64-bit integer" in reject.reason
    loaded = rows(engine, "select id from servicetitan.st_customers order by id")
    assert [r.id for r in loaded] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (customer(910, createdOn="0000-01-01T00:00:00Z"), "createdOn: expected an ISO 8601"),
        (customer(911, createdOn="2024-01-01T00:00:00+16:00"), "createdOn: expected an ISO"),
        (customer(912, modifiedOn="0000-01-01T00:00:00Z"), "modifiedOn: invalid timestamp"),
        (customer(913, balance="NaN"), "balance: expected a number"),
        (customer(914, mergedToId="0x1F"), "mergedToId: expected a 64-bit integer"),
        (customer(915, active=1), "active: expected a boolean"),
    ],
)
def test_values_postgresql_reads_differently_are_rejected(
    engine: sa.Engine, bad: Any, reason: str
) -> None:
    result = load(engine, CUSTOMERS, [customer(1), bad])
    assert (result.inserted, result.rejected) == (1, 1)
    (reject,) = rows(engine, "select reason from public.sync_rejects")
    assert reason in reject.reason


def test_fast_and_full_checks_agree_on_what_python_can_tell() -> None:
    batch = [
        customer(1),
        [1],
        customer(2, balance="12.50"),
        customer(3, balance="lots"),
        customer(4, createdOn="2024-02-29T23:59:59.9999999-05:00"),
        customer(5, createdOn="2024-02-30T00:00:00Z"),
        customer(6, name="a\\b \x01"),
        customer(7, name="nul\x00"),
        customer(8, address={"street": 5, "city": None}),
        customer(9, address="not an object"),
        customer(1, "2024-04-01T00:00:00Z", name="older duplicate"),
    ]
    fast = batches.prepare_batch(CUSTOMERS, batch)
    rows_full, rejects_full, ids_full = batches.prepare(CUSTOMERS, batch)
    assert fast.rows == rows_full and fast.rejects == rejects_full
    assert fast.rejected_ids == ids_full == [3, 5, 7]


def test_money_strings_and_line_items_take_the_fast_path_and_agree_with_the_full_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ServiceTitan sends money as strings ("1234.50") and invoices with line items and two
    candidate modifiedOn fields: plainly valid ones skip the full checks, and what the fast path
    lets through or sends to them ends exactly as the full checks alone would have it."""
    invoices = get_entity("invoices")

    def invoice(iid: int, items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        record = {
            "id": iid,
            "subTotal": "1234.50",
            "total": "-0.75",
            "balance": "0",
            "active": True,
            "createdOn": "2024-01-01T00:00:00Z",
            "modifiedOn": "2024-05-01T00:00:00Z",
            "items": items,
        }
        return {**record, **extra}

    def line(iid: int, **extra: Any) -> dict[str, Any]:
        fields = {"id": iid, "quantity": "2.00", "price": "19.99", "total": "39.98"}
        return {**fields, "modifiedOn": "2024-01-01T00:00:00Z", **extra}

    good = [
        invoice(1, [line(11), line(12, price=19.99)]),
        invoice(2, [], modifiedOn=None),  # the second candidate field, createdOn, is used
        invoice(3, [line(31)], balance=12),
    ]
    bad = [
        invoice(4, [line(41), line(41)]),  # duplicate item id
        invoice(5, [line(51, price="NaN")]),
        invoice(6, [line(61, price="1e3")]),  # PostgreSQL reads it; the full checks decide
        invoice(7, [{"id": "x"}]),
        invoice(8, "not a list"),  # type: ignore[arg-type]
        invoice(9, [line(91, modifiedOn="yesterday")]),
        invoice(10, [], total="12,50"),
        invoice(11, [], modifiedOn=None, createdOn=None),
    ]
    full_checks: list[Any] = []
    real = batches.check_record

    def spy(record: Any, *args: Any) -> Any:
        full_checks.append(record["id"])
        return real(record, *args)

    monkeypatch.setattr(batches, "check_record", spy)
    fast = batches.prepare_batch(invoices, good + bad)
    assert full_checks == [r["id"] for r in bad]
    assert sorted(fast.rows) == [1, 2, 3, 6]
    assert fast.rows[2][0] == "2024-01-01T00:00:00Z"
    rows_full, rejects_full, ids_full = batches.prepare(invoices, good + bad)
    assert fast.rows == rows_full and fast.rejects == rejects_full
    assert fast.rejected_ids == ids_full == [4, 5, 7, 8, 9, 10, 11]
    reasons = {r.record_id: r.reason for r in fast.rejects}
    assert "items[1].id: duplicate item id 41" in reasons["4"]
    assert "items[0].price: expected a number" in reasons["5"]


def load_direct(engine: sa.Engine, spec, records: list[Any], tenant: int = TENANT) -> LoadResult:
    with engine.begin() as sa_conn:
        conn = sa_conn.connection.driver_connection
        assert isinstance(conn, psycopg.Connection)
        return load_records(conn, spec, tenant, records, direct=True)


# Values whose typed column a direct COPY must write exactly as the upsert's SQL derives it.
AWKWARD = [
    customer(1, name="Tab\there", address={"street": "Line\nbreak\r\\ back", "city": "Ürümqi"}),
    customer(2, balance=1e-7, mergedToId=9_223_372_036_854_775_807, address="not an object"),
    customer(3, balance=0.1, active=False, name=None, address=None, doNotMail=None),
    customer(4, balance=123456789012345678, createdOn="2024-01-31T23:59:59.1234567+05:30"),
    customer(5, "2024-02-29T12:00:00.5-07:00", createdOn="2023-12-31T00:00:00"),
    customer(6, "2024-05-01 10:00:00.25Z", name="quote \" and ' and \\N", balance=-0.0),
    customer(7, balance="-1234.50"),
    customer(8, balance="000.10"),
    customer(9, createdOn="2024-02-29T23:00:00-05:00"),
]


def test_direct_copy_writes_the_typed_columns_the_upsert_derives(
    engine: sa.Engine, direct_copies: list[bool]
) -> None:
    direct = load_direct(engine, CUSTOMERS, AWKWARD)
    assert direct_copies == [True]
    with engine.begin() as sa_conn:
        conn = sa_conn.connection.driver_connection
        plain = load_records(conn, CUSTOMERS, TENANT + 1, AWKWARD)
    assert direct_copies == [True]
    assert (direct.inserted, plain.inserted) == (9, 9)
    assert direct.max_modified_on == plain.max_modified_on is not None
    columns = ", ".join(["id", *(c.name for c in CUSTOMERS.columns), "raw", "modified_on"])
    by_tenant = [
        rows(
            engine,
            f"select {columns} from servicetitan.st_customers where tenant_id = :t order by id",
            t=tenant,
        )
        for tenant in (TENANT, TENANT + 1)
    ]
    assert by_tenant[0] == by_tenant[1]
    first = by_tenant[0][0]
    assert first.name == "Tab\there" and first.street == "Line\nbreak\r\\ back"


def test_direct_copy_falls_back_to_the_upsert_and_keeps_the_newer_row(
    engine: sa.Engine, direct_copies: list[bool]
) -> None:
    load(engine, CUSTOMERS, [customer(1, "2024-06-01T00:00:00Z", name="Newer")])
    result = load_direct(
        engine,
        CUSTOMERS,
        [customer(1, "2024-05-01T00:00:00Z", name="Older"), customer(2), customer(3)],
    )
    # The COPY hit the existing row 1 and was rolled back: the upsert loaded the page.
    assert direct_copies == [False]
    assert (result.inserted, result.updated, result.unchanged) == (2, 0, 1)
    got = rows(engine, "select id, name from servicetitan.st_customers order by id")
    assert [(r.id, r.name) for r in got] == [(1, "Newer"), (2, "Customer 2"), (3, "Customer 3")]


def test_direct_copy_of_a_value_postgresql_refuses_rejects_it(
    engine: sa.Engine, direct_copies: list[bool]
) -> None:
    result = load_direct(
        engine, CUSTOMERS, [customer(1), customer(2, mergedToId=2**63), customer(3)]
    )
    assert direct_copies == [False]
    assert (result.inserted, result.rejected) == (2, 1)
    (reject,) = rows(engine, "select record_id, reason from public.sync_rejects")
    assert reject.record_id == "2" and "mergedToId" in reject.reason
    assert [r.id for r in rows(engine, "select id from servicetitan.st_customers")] == [1, 3]


def test_direct_copy_keeps_the_newest_of_a_repeated_id_and_skips_pages_it_cannot_write(
    engine: sa.Engine, direct_copies: list[bool]
) -> None:
    """A page that repeats an id still goes straight in, newest version only. A page with a
    value that has no direct COPY text (a number where a text column's value belongs) is not
    attempted: the upsert loads it, deriving the same typed columns as the SQL always does."""
    repeated = [
        customer(1, "2024-05-02T00:00:00Z", name="Newer"),
        customer(2),
        customer(1, "2024-05-01T00:00:00Z", name="Older"),
    ]
    result = load_direct(engine, CUSTOMERS, repeated)
    assert direct_copies == [True]
    assert result.inserted == 2
    odd = [customer(3, name=12345), customer(4, address={"street": ["a list"]})]
    result = load_direct(engine, CUSTOMERS, odd, tenant=TENANT + 1)
    assert direct_copies == [True]
    assert result.inserted == 2
    got = rows(engine, "select tenant_id, id, name, street from servicetitan.st_customers")
    assert sorted((r.tenant_id, r.id, r.name, r.street) for r in got) == [
        (TENANT, 1, "Newer", "1 Pool Rd"),
        (TENANT, 2, "Customer 2", "1 Pool Rd"),
        (TENANT + 1, 3, "12345", "1 Pool Rd"),
        (TENANT + 1, 4, "Customer 4", '["a list"]'),
    ]


def test_direct_copy_text_of_a_date_column() -> None:
    """No entity has a date column yet: the compiled writer of one, directly. A plain date or
    timestamp passes as written, a valid rarer one (February 29th) after its full check, and
    anything the full checks refuse has no direct COPY text."""
    import dataclasses

    from perfect_catch.warehouse.catalog import Column

    spec = dataclasses.replace(CUSTOMERS, columns=(Column("day", "date", ("day",)),))
    write = compile_typed_fields(spec)
    assert write is not None
    assert write({"day": "2024-05-01"}) == b"\t2024-05-01"
    assert write({"day": "2024-05-01T10:00:00Z"}) == b"\t2024-05-01T10:00:00Z"
    assert write({"day": "2024-02-29"}) == b"\t2024-02-29"
    assert write({"day": None}) == write({}) == b"\t\\N"
    assert write({"day": "2023-02-29"}) is None
    assert write({"day": 20240501}) is None


def test_a_unix_socket_connection_gets_room_for_a_page_of_copy_data(engine: sa.Engine) -> None:
    raw = engine.raw_connection()
    try:
        conn: psycopg.Connection = raw.driver_connection  # type: ignore[assignment]
        with socket.socket(fileno=os.dup(conn.pgconn.socket)) as sock:
            family, before = sock.family, sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        size = widen_copy_buffer(conn)
        with socket.socket(fileno=os.dup(conn.pgconn.socket)) as sock:
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) == size
        if family != socket.AF_UNIX:
            assert size == before  # TCP keeps the kernel's own tuning
            return
        # Linux doubles what it is given (for its bookkeeping) after capping it at wmem_max.
        wmem_max = int(Path("/proc/sys/net/core/wmem_max").read_text())
        assert size == max(before, 2 * min(COPY_SEND_BUFFER, wmem_max))
        assert widen_copy_buffer(conn) == size
    finally:
        raw.close()


def test_while_copying_runs_once_the_rows_are_sent_and_before_the_copy_ends(
    engine: sa.Engine,
) -> None:
    seen: list[pq.TransactionStatus] = []
    with engine.begin() as sa_conn:
        conn = sa_conn.connection.driver_connection
        assert isinstance(conn, psycopg.Connection)

        def note() -> None:
            seen.append(conn.info.transaction_status)

        def load(records: list[Any], direct: bool) -> LoadResult:
            return load_records(conn, CUSTOMERS, TENANT, records, direct=direct, while_copying=note)

        first = load([customer(i) for i in (1, 2, 3)], direct=True)
        assert seen == [pq.TransactionStatus.ACTIVE]  # the COPY was still in progress
        # A direct COPY that fails (a row already there) called it too, then took the upsert.
        again = load([customer(1, "2025-01-01T00:00:00Z")], direct=True)
        assert len(seen) == 2
        # The upsert path alone does not call it.
        load([customer(2, "2025-01-01T00:00:00Z")], direct=False)
        assert len(seen) == 2
    assert (first.inserted, again.updated) == (3, 1)
