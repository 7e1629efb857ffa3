"""GHL -> ST customer creation (behind its setting, once per contact) and GHL webhooks."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from integration_support import TENANT, put_st

from perfect_catch.integrations.ghl_sync import upsert_contacts
from perfect_catch.integrations.ghl_to_st import pull_ghl_customers_to_st
from perfect_catch.integrations.ghl_webhooks import apply_ghl_webhook
from perfect_catch.settings import load_settings

LOCATION = "loc1"


class FakeServiceTitan:
    """Records create-customer calls the way `ServiceTitanClient.post` would make them."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, str, Any]] = []

    def post(self, module: str, path: str, json: Any = None) -> Any:
        self.posts.append((module, path, json))
        number = len(self.posts)
        return {"id": 99_000_000 + number, "locations": [{"id": 98_000_000 + number}]}


def _contact(contact_id: str, phone: str | None, tags: list[str], **extra: Any) -> dict:
    return {
        "id": contact_id,
        "firstName": "Sam",
        "lastName": contact_id,
        "phone": phone,
        "email": extra.pop("email", None),
        "tags": tags,
        "dateAdded": "2025-01-01T00:00:00.000Z",
        "dateUpdated": "2025-01-02T00:00:00.000Z",
        **extra,
    }


def _load(engine: sa.Engine, records: list[dict]) -> None:
    raw = engine.raw_connection()
    try:
        upsert_contacts(raw.driver_connection, LOCATION, records)
        raw.commit()
    finally:
        raw.close()


def test_tagged_unknown_contacts_become_st_customers_once(engine: sa.Engine) -> None:
    put_st(engine, "st_customers", 10_000_001, name="Known")
    put_st(
        engine,
        "st_customer_contacts",
        1,
        customer_id=10_000_001,
        type="Phone",
        value="(602) 555-0101",
    )
    address = {"address1": "1 Main St", "city": "Phoenix", "state": "AZ", "postalCode": "85001"}
    _load(
        engine,
        [
            _contact("new", "+16025550199", ["customer"], **address),
            _contact("known", "+16025550101", ["customer"], **address),
            _contact("lead", "+16025550102", ["lead"], **address),
            _contact("noaddress", "+16025550103", ["Customer"]),
        ],
    )
    st = FakeServiceTitan()
    off = pull_ghl_customers_to_st(engine, st, LOCATION, TENANT, load_settings())
    assert not off.enabled and not st.posts

    config = load_settings(ghl_pull_to_st=True)
    first = pull_ghl_customers_to_st(engine, st, LOCATION, TENANT, config)
    second = pull_ghl_customers_to_st(engine, st, LOCATION, TENANT, config)
    assert first.created == [99_000_001] and second.created == []
    assert list(first.skipped) == ["noaddress"]
    assert len(st.posts) == 1
    module, path, body = st.posts[0]
    assert (module, path) == ("crm", "customers")
    assert body["locations"][0]["address"]["street"] == "1 Main St"
    with engine.connect() as conn:
        link = conn.execute(
            sa.text(
                "select customer_id, contact_id, matched_by from integrations.ghl_customer_contacts"
            )
        ).one()
    assert tuple(link) == (99_000_001, "new", "from_ghl")


def test_webhooks_update_pulled_tables(engine: sa.Engine) -> None:
    base = {"locationId": LOCATION, "id": "c1", "firstName": "Ann", "phone": "+16025550100"}
    assert (
        apply_ghl_webhook(
            engine, {"type": "ContactCreate", **base, "dateUpdated": "2025-02-01T00:00:00Z"}
        )
        == "written"
    )
    assert (
        apply_ghl_webhook(
            engine,
            {
                "type": "ContactUpdate",
                **base,
                "tags": ["vip"],
                "dateUpdated": "2025-01-01T00:00:00Z",
            },
        )
        == "unchanged"
    )
    opportunity = {
        "locationId": LOCATION,
        "id": "o1",
        "contactId": "c1",
        "status": "open",
        "pipelineId": "p",
        "pipelineStageId": "s1",
        "monetaryValue": 10,
    }
    assert apply_ghl_webhook(engine, {"type": "OpportunityCreate", **opportunity}) == "written"
    assert (
        apply_ghl_webhook(
            engine, {"type": "OpportunityStatusUpdate", **opportunity, "status": "won"}
        )
        == "written"
    )
    assert apply_ghl_webhook(engine, {"type": "ContactDelete", **base}) == "deleted"
    assert apply_ghl_webhook(engine, {"type": "NoteCreate", **base}) == "ignored"
    with engine.connect() as conn:
        status = conn.execute(
            sa.text("select status from integrations.ghl_opportunities where id = 'o1'")
        ).scalar_one()
        deleted = conn.execute(
            sa.text("select deleted_at is not null from integrations.ghl_contacts where id = 'c1'")
        ).scalar_one()
        logged = conn.execute(
            sa.text("select count(*) from integrations.ghl_sync_log where direction = 'webhook'")
        ).scalar_one()
    assert status == "won" and deleted and logged == 6


def test_malformed_records_are_rejected_not_fatal(engine: sa.Engine) -> None:
    good = _contact("ok", "+16025550100", [])
    bad_date = {**_contact("bad", None, []), "dateUpdated": "yesterday-ish"}
    no_id = {"firstName": "Nobody"}
    raw = engine.raw_connection()
    try:
        written = upsert_contacts(raw.driver_connection, LOCATION, [bad_date, no_id, good])
        raw.commit()
    finally:
        raw.close()
    assert written == 1
    with engine.connect() as conn:
        rejects = conn.execute(
            sa.text(
                "select record_id, reason from public.sync_rejects where source = 'gohighlevel' "
                "order by id"
            )
        ).all()
    assert [r.record_id for r in rejects] == ["bad", None]
    assert "ValueError" in rejects[0].reason and "KeyError" in rejects[1].reason
