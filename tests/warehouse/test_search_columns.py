"""The search columns of migration 0013: filled for rows written before it and after it, and
read through their indexes by every kind of customer lookup on a table large enough for the
planner to care."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from perfect_catch.tools.lookup import corrected_words, find_customers
from perfect_catch.warehouse import migrate
from perfect_catch.warehouse.embedded import EmbeddedServer
from perfect_catch.warehouse.engine import create_engine
from tests.conftest import TEMPLATE
from tests.warehouse.customer_rows import FIRST_ID, generate_customers

TENANT = 1
ROWS = 60_000


@contextmanager
def captured(engine: sa.Engine) -> Iterator[list[tuple[str, Any]]]:
    """The statements (and parameters) sent to PostgreSQL while the block runs."""
    statements: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def _plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


@pytest.fixture(scope="module")
def large_engine(pg_server: EmbeddedServer) -> Iterator[sa.Engine]:
    """A database at head with `ROWS` generated customers, shared by the module's tests (they
    only read it)."""
    name = f"t_search_{uuid.uuid4().hex[:10]}"
    url = sa.make_url(pg_server.uri).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}" template "{TEMPLATE}"'))
    engine = create_engine(url.set(database=name).render_as_string(hide_password=False))
    with engine.begin() as conn:
        generate_customers(conn, TENANT, ROWS)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


def _lookup_plans(engine: sa.Engine, **criteria: Any) -> tuple[list[dict], list[dict]]:
    """What `find_customers` found for `criteria`, and the plan nodes of its customer query."""
    with engine.connect() as conn:
        with captured(engine) as statements:
            found = find_customers(conn, TENANT, limit=5, fuzzy=True, **criteria)
        nodes: list[dict] = []
        for statement, parameters in statements:
            if "from servicetitan.st_customers c" not in statement:
                continue
            explained = conn.exec_driver_sql(f"explain (format json) {statement}", parameters)
            nodes.extend(_plan_nodes(explained.scalar()[0]["Plan"]))
    return found, nodes


SEARCHED = ("st_customers", "st_customer_contacts", "st_locations")

#: lookup criteria -> the indexes its plan must read.
LOOKUPS: dict[str, tuple[dict[str, str], set[str]]] = {
    "whole phone": ({"phone": "(480) 555-2894"}, {"st_customer_contacts_phone_e164_idx"}),
    "last 7 digits": ({"phone": "555-2894"}, {"st_customer_contacts_phone_last7_idx"}),
    "email": ({"email": "Someone@Example.com"}, {"st_customer_contacts_email_lower_idx"}),
    "name": ({"name": "Paul Lewis"}, {"st_customers_name_lower_idx"}),
    "part of a name": ({"name": "Lewi"}, {"st_customers_name_trgm_idx"}),
    # Corrected word by word against the name words, then read by the corrected names.
    "misspelled name": ({"name": "Pual Lewsi"}, {"st_customers_name_lower_idx"}),
    "part of a street": (
        {"address": "4821 Camelback"},
        {"st_customers_address_trgm_idx", "st_locations_address_trgm_idx"},
    ),
}


@pytest.mark.parametrize("kind", list(LOOKUPS))
def test_each_lookup_reads_an_index_at_60k_customers(large_engine: sa.Engine, kind: str) -> None:
    criteria, indexes = LOOKUPS[kind]
    _, nodes = _lookup_plans(large_engine, **criteria)
    assert nodes, "no customer query was run"
    read = {node.get("Index Name") for node in nodes} - {None}
    assert indexes <= read, (kind, read)
    scanned = {node["Relation Name"] for node in nodes if node["Node Type"] == "Seq Scan"}
    assert not scanned & set(SEARCHED), (kind, scanned)


def test_generated_rows_are_found_by_each_kind(large_engine: sa.Engine) -> None:
    """The rows the plans above were taken on are found, so the plans are of real answers."""
    with large_engine.connect() as conn:
        row = (
            conn.execute(
                sa.text(
                    """select c.id, c.name, c.street, p.value as phone, e.value as email
                       from servicetitan.st_customers c
                       join servicetitan.st_customer_contacts p
                         on p.customer_id = c.id and p.type = 'Phone'
                       join servicetitan.st_customer_contacts e
                         on e.customer_id = c.id and e.type = 'Email'
                       where c.id = :id"""
                ),
                {"id": FIRST_ID + 1234},
            )
            .mappings()
            .one()
        )
    for criteria in (
        {"phone": row["phone"]},
        {"email": row["email"].upper()},
        {"name": row["name"], "address": row["street"]},
    ):
        found, _ = _lookup_plans(large_engine, **criteria)
        assert row["id"] in [c["id"] for c in found], criteria
    found, _ = _lookup_plans(large_engine, email=f" {row['email'].upper()} ")
    assert [c["id"] for c in found] == [row["id"]]


CONTACTS = [
    (1, "Phone", "(480) 555-2894 ext 12", None, "+14805552894", None),
    (2, "MobilePhone", "1.602.555.0100", None, "+16025550100", None),
    (3, "Email", "  Paul.Lewis@Example.COM ", None, None, "paul.lewis@example.com"),
    (4, "Phone", "call me", None, None, None),
    (5, "Fax", "", "+1 623 555 0199", "+16235550199", None),
]


def test_backfill_fills_rows_loaded_before_the_migration(engine: sa.Engine) -> None:
    migrate.downgrade(engine, "0010_owed_and_close_rate")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                """insert into servicetitan.st_customers
                     (tenant_id, id, name, street, city, state, zip, raw, modified_on, synced_at)
                   values (1, 10, 'Paul Lewis', '1234 N. Pinnacle Peak Rd', 'Scottsdale', 'AZ',
                           '85255', '{}', now(), now())"""
            )
        )
        conn.execute(
            sa.text(
                """insert into servicetitan.st_locations
                     (tenant_id, id, customer_id, street, city, state, zip, raw, modified_on,
                      synced_at)
                   values (1, 20, 10, '77 W Camelback Rd', 'Phoenix', 'AZ', '85013', '{}',
                           now(), now())"""
            )
        )
        for contact_id, kind, value, settings_phone, _, _ in CONTACTS:
            raw = {"phoneSettings": {"phoneNumber": settings_phone}} if settings_phone else {}
            conn.execute(
                sa.text(
                    """insert into servicetitan.st_customer_contacts
                         (tenant_id, id, customer_id, type, value, raw, modified_on, synced_at)
                       values (1, :id, 10, :type, :value, cast(:raw as jsonb), now(), now())"""
                ),
                {"id": contact_id, "type": kind, "value": value, "raw": json.dumps(raw)},
            )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        contacts = conn.execute(
            sa.text(
                "select id, phone_e164, email_lower from servicetitan.st_customer_contacts"
                " order by id"
            )
        ).all()
        addresses = conn.execute(
            sa.text(
                "select address_search from servicetitan.st_customers union all "
                "select address_search from servicetitan.st_locations"
            )
        ).scalars()
        assert [tuple(c) for c in contacts] == [(i, e, m) for i, _, _, _, e, m in CONTACTS]
        assert list(addresses) == [
            "1234 n pinnacle peak rd scottsdale az 85255",
            "77 w camelback rd phoenix az 85013",
        ]
        for criteria in (
            {"phone": "480-555-2894"},
            {"phone": "5550199"},
            {"email": "PAUL.LEWIS@example.com"},
            {"address": "pinnacle peak"},
            {"address": "Camelback Rd, Phoenix"},
            {"name": "paul lewis"},
        ):
            found = find_customers(conn, 1, **criteria)
            assert [c["id"] for c in found] == [10], criteria
        # The name words of rows loaded before the migration are in the dictionary.
        found = find_customers(conn, 1, name="Pual Lewsi", fuzzy=True)
        assert [c["id"] for c in found] == [10]


def test_misspelled_names_are_corrected_against_the_name_words(
    large_engine: sa.Engine,
) -> None:
    """Each word is corrected against the dictionary (far smaller than the customers: the
    plan test above shows the customers then read by the corrected names' index), and the
    one named exactly by the corrections comes first."""
    found, _ = _lookup_plans(large_engine, name="Pual Lewsi")
    assert found and found[0]["name"] == "Paul Lewis"
    with large_engine.connect() as conn:
        count = conn.execute(
            sa.text("select count(*) from servicetitan.st_customer_name_words")
        ).scalar()
        assert count and count < ROWS / 10
        corrected = corrected_words(conn, TENANT, "Pual Lewsi")
        assert corrected[0][0] == "paul" and corrected[1][0] == "lewis"
        assert corrected_words(conn, TENANT, "Zzyzxq Lewis") == []


def test_name_words_follow_inserts_and_renames(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                """insert into servicetitan.st_customers
                     (tenant_id, id, name, raw, modified_on, synced_at)
                   values (1, 10, 'Quentin Blackwood-Hale', '{}', now(), now()),
                          (2, 11, 'Other Tenant', '{}', now(), now())"""
            )
        )
        conn.execute(
            sa.text("update servicetitan.st_customers set name = 'Quentin Ashgrove' where id = 10")
        )
        words = conn.execute(
            sa.text(
                "select tenant_id, word from servicetitan.st_customer_name_words"
                " order by tenant_id, word"
            )
        ).all()
    assert [tuple(w) for w in words] == [
        (1, "ashgrove"),
        (1, "blackwood"),
        (1, "hale"),
        (1, "quentin"),
        (2, "other"),
        (2, "tenant"),
    ]
    with engine.connect() as conn:
        found = find_customers(conn, 1, name="Quentn Ashgorve", fuzzy=True)
        assert [c["name"] for c in found] == ["Quentin Ashgrove"]
        assert find_customers(conn, 2, name="Quentn Ashgorve", fuzzy=True) == []


def test_two_swapped_letters_come_before_other_words_as_many_edits_away(
    engine: sa.Engine,
) -> None:
    names = ["Rex Smtc", "Rex Smtikk", "Rex Sltig", "Rex Amtiz", "Rex Smtahh", "Rex Smith"]
    with engine.begin() as conn:
        for n, name in enumerate(names):
            conn.execute(
                sa.text(
                    """insert into servicetitan.st_customers
                         (tenant_id, id, name, raw, modified_on, synced_at)
                       values (1, :id, :name, '{}', now(), now())"""
                ),
                {"id": 100 + n, "name": name},
            )
    with engine.connect() as conn:
        assert corrected_words(conn, 1, "Rex Smtih")[1][0] == "smith"
        found = find_customers(conn, 1, name="Rex Smtih", fuzzy=True)
        assert found[0]["name"] == "Rex Smith"
        # Eight words: a bounded number of names made of their corrections.
        found = find_customers(conn, 1, name=" ".join(["Rex Smtih"] * 4), fuzzy=True)
        assert "Rex Smith" in [c["name"] for c in found]
