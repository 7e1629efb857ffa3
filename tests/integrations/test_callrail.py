"""CallRail: calls synced with a trailing window and linked to ST customers across formats."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
import sqlalchemy as sa
from integration_support import TENANT, callrail_client

from perfect_catch.integrations.callrail_sync import sync_callrail_calls
from perfect_catch.phones import to_e164

FORMATS = [
    "+16025550100",
    "(602) 555-0100",
    "602-555-0100",
    "602.555.0100",
    "1 (602) 555 0100",
    "602-555-0100 ext 12",
    "+1 602 555 0100",
    "16025550100",
    "6025550100x7",
]


def test_python_and_sql_normalise_alike(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        for value in [*FORMATS, "555-0100", "", "+44 20 7946 0958", "not a phone"]:
            sql = conn.execute(sa.text("select integrations.e164(:v)"), {"v": value}).scalar()
            assert sql == to_e164(value), value
    assert {to_e164(v) for v in FORMATS} == {"+16025550100"}


def _load_st_customers(engine: sa.Engine, sim) -> None:
    """The ST simulator's customers and phone/email contacts, as the ST sync would store them."""
    st = sim.system("servicetitan")
    now = datetime.now(UTC)
    customers = [
        {
            "id": c["id"],
            "name": c["name"],
            "active": c["active"],
            "merged": c["mergedToId"],
            "raw": orjson.dumps(c).decode(),
            "now": now,
            "t": TENANT,
        }
        for c in st.records("customers")
    ]
    contacts = [
        {
            "id": c["id"],
            "customer_id": c["customerId"],
            "type": c["type"],
            "value": c["value"],
            "raw": orjson.dumps(c).decode(),
            "now": now,
            "t": TENANT,
        }
        for c in st.records("customer-contacts")
    ]
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into servicetitan.st_customers (tenant_id, id, name, active, merged_to_id, "
                "raw, modified_on, synced_at) values (:t, :id, :name, :active, :merged, "
                "cast(:raw as jsonb), :now, :now)"
            ),
            customers,
        )
        conn.execute(
            sa.text(
                "insert into servicetitan.st_customer_contacts (tenant_id, id, customer_id, type, "
                "value, raw, modified_on, synced_at) values (:t, :id, :customer_id, :type, :value, "
                "cast(:raw as jsonb), :now, :now)"
            ),
            contacts,
        )


@pytest.fixture
def calls_synced(sim, engine: sa.Engine):
    _load_st_customers(engine, sim)
    with callrail_client(sim, per_page=50) as client:
        result = sync_callrail_calls(
            engine, client, trailing_days=3, tenant_ids=[TENANT], now=sim.system("callrail").anchor
        )
    return result


def test_calls_link_to_the_right_customer_across_formats(sim, engine, calls_synced) -> None:
    state = sim.system("callrail")
    assert calls_synced.records == len(state.calls)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select id, customer_phone_number, st_customer_id, st_tenant_id "
                "from integrations.callrail_calls"
            )
        ).all()
    assert len(rows) == len(state.calls)
    linked_formats = set()
    for call_id, phone, customer_id, tenant_id in rows:
        expected = state.st_customer_ids[call_id]
        if expected:
            assert customer_id in expected, (call_id, phone)
            assert tenant_id == TENANT
            if phone.startswith("+1"):
                linked_formats.add("+1")
            elif phone.startswith("("):
                linked_formats.add("parentheses")
            elif "-" in phone:
                linked_formats.add("dashes")
        else:
            assert customer_id is None, (call_id, phone)
    assert {"+1", "parentheses", "dashes"} <= linked_formats
    linkable = sum(1 for expected in state.st_customer_ids.values() if expected)
    assert sum(1 for r in rows if r[2] is not None) == linkable >= len(rows) // 4


def test_trailing_window_catches_late_changes(sim, engine, calls_synced) -> None:
    state = sim.system("callrail")
    latest = max(state.calls.values(), key=lambda c: c["_start"])
    state.update_call(
        latest["id"],
        recording="https://api.callrail.com/recording.mp3",
        lead_status="good_lead",
        tags=[{"name": "estimate requested", "color": "blue"}],
    )
    with callrail_client(sim, per_page=50) as client:
        again = sync_callrail_calls(
            engine, client, trailing_days=3, tenant_ids=[TENANT], now=sim.system("callrail").anchor
        )
    assert 0 < again.records < len(state.calls)
    assert again.written == 1
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "select recording, lead_status, tags from integrations.callrail_calls "
                "where id = :id"
            ),
            {"id": latest["id"]},
        ).one()
    assert row.recording == "https://api.callrail.com/recording.mp3"
    assert row.lead_status == "good_lead"
    assert row.tags == [{"name": "estimate requested", "color": "blue"}]


def test_offset_and_relative_paging_agree(sim) -> None:
    with callrail_client(sim, per_page=40) as client:
        relative = [c["id"] for page in client.calls() for c in page]
        offset = [c["id"] for page in client.calls_by_page() for c in page]
    assert relative == offset
    assert len(set(relative)) == len(sim.system("callrail").calls)
