"""Customer writes: create a customer with a location and contacts, add and change contacts;
dry run by default, once per request, refused on bad input or a duplicate, the warehouse
refreshed from ServiceTitan's answer."""

from __future__ import annotations

from typing import Any

ADDRESS = {"street": "4512 E Camelback Rd", "city": "Phoenix", "state": "AZ", "zip": "85018"}


def _request(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Dana Whitfield",
        "address": ADDRESS,
        "contacts": [
            {"type": "mobile", "value": "(602) 555-0142"},
            {"type": "email", "value": "Dana.Whitfield@Example.com"},
        ],
        **changes,
    }


def test_create_customer_dry_run_then_once(world) -> None:
    before = world.st_state()
    draft = world.ok("create_customer", _request())
    assert draft["dry_run"] is True and draft["created"] is False
    sent = draft["request"]
    assert [c["value"] for c in sent["contacts"]] == ["+16025550142", "dana.whitfield@example.com"]
    assert sent["locations"][0]["address"]["street"] == ADDRESS["street"]
    assert world.st_state() == before

    created = world.ok("create_customer", _request(dry_run=False))
    customer_id = created["customer_id"]
    assert created["created"] is True and customer_id and created["location_ids"]
    assert (
        world.scalar("select name from servicetitan.st_customers where id = :c", c=customer_id)
        == "Dana Whitfield"
    )
    phones = world.rows(
        "select value from servicetitan.st_customer_contacts where customer_id = :c order by value",
        c=customer_id,
    )
    assert [r["value"] for r in phones] == ["+16025550142", "dana.whitfield@example.com"]
    assert (
        world.scalar(
            "select count(*) from servicetitan.st_locations where customer_id = :c", c=customer_id
        )
        == 1
    )

    after_first = world.st_state()
    again = world.ok("create_customer", _request(dry_run=False))
    assert again["replayed"] is True and again["customer_id"] == customer_id
    assert world.st_state() == after_first

    duplicate = world.error(
        "create_customer", _request(name="Someone Else", idempotency_key="other", dry_run=False)
    )
    assert str(customer_id) in duplicate and "allow_duplicate" in duplicate


def test_create_customer_refuses_an_unreachable_phone(world) -> None:
    before = world.st_state()
    message = world.error(
        "create_customer",
        _request(contacts=[{"type": "phone", "value": "555-01"}], dry_run=False),
    )
    assert "contacts[0]" in message and "555-01" in message
    assert world.st_state() == before


def test_update_customer_contacts_adds_and_changes(world) -> None:
    created = world.ok(
        "create_customer",
        _request(
            name="Lee Okafor",
            contacts=[{"type": "mobile", "value": "480-555-0177"}],
            dry_run=False,
        ),
    )
    customer_id = created["customer_id"]
    contact_id = world.scalar(
        "select id from servicetitan.st_customer_contacts where customer_id = :c", c=customer_id
    )
    request = {
        "customer_id": customer_id,
        "add": [{"type": "email", "value": "lee@example.com", "memo": "billing"}],
        "change": [{"contact_id": contact_id, "value": "+1 480 555 0178"}],
    }
    before = world.st_state()
    draft = world.ok("update_customer_contacts", request)
    assert draft["dry_run"] is True and len(draft["requests"]) == 2
    assert world.st_state() == before

    done = world.ok("update_customer_contacts", {**request, "dry_run": False})
    assert done["changed"] is True
    values = world.rows(
        "select id, value from servicetitan.st_customer_contacts where customer_id = :c"
        " order by id",
        c=customer_id,
    )
    assert [r["value"] for r in values] == ["+14805550178", "lee@example.com"]
    assert values[0]["id"] == contact_id

    replayed = world.ok("update_customer_contacts", {**request, "dry_run": False})
    assert replayed["replayed"] is True
    assert (
        world.scalar(
            "select count(*) from servicetitan.st_customer_contacts where customer_id = :c",
            c=customer_id,
        )
        == 2
    )

    missing = world.error(
        "update_customer_contacts",
        {"customer_id": customer_id, "change": [{"contact_id": 1, "memo": "x"}]},
    )
    assert "contact 1 is not a contact" in missing
