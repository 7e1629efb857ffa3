"""`lookup_customer` with what people actually type: part of a phone number, a misspelled name,
part of a street; exact matches ranked before the merely alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.mcp.conftest import World

#: Customers of this module, clear of the simulator's ids: (id, name, street, phone, email).
CUSTOMERS = [
    (990_001, "John Smith", "8123 N Quailrun Trail", "(480) 555-2894", "john.smith@example.com"),
    (990_002, "John Smithson", "8125 N Quailrun Trail", "480-555-7777", "js@example.com"),
    (990_003, "Joan Smythe", "17 E Quailrun Way", "+1 602 555 3131", "joan@example.com"),
]


@pytest.fixture(scope="module")
def added(world: World) -> World:
    """The module's customers, written as the loader writes them (the search columns are
    PostgreSQL's to fill). John Smithson is the most recently modified, so only the ranking
    by match puts John Smith before him."""
    with world.engine.begin() as conn:
        for n, (cid, name, street, phone, email) in enumerate(CUSTOMERS):
            conn.exec_driver_sql(
                """insert into servicetitan.st_customers
                     (tenant_id, id, name, type, active, street, city, state, zip, raw,
                      modified_on, synced_at)
                   values (%s, %s, %s, 'Residential', true, %s, 'Tempe', 'AZ', '85281', '{}',
                           now() - make_interval(days => %s), now())""",
                (world.tenant_id, cid, name, street, 10 - 5 * n if n < 2 else 20),
            )
            for offset, (kind, value) in enumerate((("MobilePhone", phone), ("Email", email))):
                conn.exec_driver_sql(
                    """insert into servicetitan.st_customer_contacts
                         (tenant_id, id, customer_id, type, value, active, raw, modified_on,
                          synced_at)
                       values (%s, %s, %s, %s, %s, true, '{}', now(), now())""",
                    (world.tenant_id, cid * 10 + offset, cid, kind, value),
                )
    return world


def _ids(world: World, **criteria: str) -> list[int]:
    found = world.ok("lookup_customer", {**criteria, "limit": 20})["customers"]
    return [c["id"] for c in found]


@pytest.mark.parametrize(
    "phone",
    ["(480) 555-2894", "4805552894", "+14805552894", "555-2894", "5552894", "480 555 2894 x9"],
)
def test_phone_whole_or_its_last_digits(added: World, phone: str) -> None:
    assert 990_001 in _ids(added, phone=phone)
    assert 990_002 not in _ids(added, phone=phone)


def test_a_partial_phone_needs_seven_digits(added: World) -> None:
    assert "at least 7 digits" in added.error("lookup_customer", {"phone": "2894"})


def test_misspelled_name_finds_the_customer_by_similarity(added: World) -> None:
    found = added.ok("lookup_customer", {"name": "Jon Smtih"})["customers"]
    assert found and found[0]["name"] == "John Smith"
    assert "Zzyzx" not in str(added.ok("lookup_customer", {"name": "Zzyzx Nobody"}))


def test_exact_name_first_then_names_holding_it(added: World) -> None:
    ids = _ids(added, name="john smith")
    assert ids.index(990_001) < ids.index(990_002)
    assert [c["name"] for c in added.ok("lookup_customer", {"name": "Smithson"})["customers"]] == [
        "John Smithson"
    ]


@pytest.mark.parametrize("address", ["Quailrun", "8123 N Quail", "quailrun trail, tempe", "8123"])
def test_part_of_a_street(added: World, address: str) -> None:
    assert 990_001 in _ids(added, address=address)


def test_address_ranked_by_likeness_and_narrowed_by_name(added: World) -> None:
    ids = _ids(added, address="8125 N Quailrun Trail")
    assert ids[0] == 990_002
    assert _ids(added, address="quailrun", name="Joan") == [990_003]
    assert "no letters or digits" in added.error("lookup_customer", {"address": "#, -"})


def test_email_any_case_and_spacing(added: World) -> None:
    assert _ids(added, email=" John.Smith@EXAMPLE.com ") == [990_001]
    assert _ids(added, email="john.smith@example") == []
