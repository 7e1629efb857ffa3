"""Quiet hours and caps in each recipient's own zone, resolved once and stored on the row."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import orjson
import sqlalchemy as sa
from messaging_world import TENANT, Messaging

from perfect_catch.messaging import recipient_zone
from perfect_catch.simulators.servicetitan import catalog
from perfect_catch.simulators.servicetitan.records.people import address

NY = ZoneInfo("America/New_York")
PHX = ZoneInfo("America/Phoenix")
#: Coordinates of a service address in Manhattan and one in Phoenix.
MANHATTAN = (40.7306, -73.9866)
PHOENIX = (33.4484, -112.0740)


def add_location(
    engine: sa.Engine,
    location_id: int,
    customer_id: int,
    *,
    coordinates: tuple[float, float] | None = None,
    state: str = "",
) -> None:
    lat, lon = coordinates or (None, None)
    raw = {"id": location_id, "address": {"state": state, "latitude": lat, "longitude": lon}}
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into servicetitan.st_locations (tenant_id, id, customer_id, active, state,"
                " raw, modified_on, synced_at) values (:t, :id, :c, true, :state,"
                " cast(:raw as jsonb), now(), now())"
            ),
            {
                "t": TENANT,
                "id": location_id,
                "c": customer_id,
                "state": state,
                "raw": orjson.dumps(raw).decode(),
            },
        )


def test_two_recipients_in_two_zones_at_the_same_clock(world: Messaging) -> None:
    add_location(world.engine, 9001, 601, coordinates=MANHATTAN)
    add_location(world.engine, 9002, 602, coordinates=PHOENIX)
    # Both numbers are Phoenix (602) numbers: the service location decides, not the phone.
    world.enqueue("ny", customer_id=601, to="+16025550101")
    world.enqueue("phx", customer_id=602, to="+16025550102")
    assert (
        world.row("ny")["recipient_timezone"],
        world.row("ny")["recipient_timezone_source"],
    ) == (
        NY.key,
        "location coordinates",
    )
    assert world.row("phx")["recipient_timezone"] == PHX.key
    at = datetime(2030, 6, 4, 12, 30, tzinfo=UTC)  # 08:30 in New York, 05:30 in Phoenix
    result = world.dispatch(now=at)
    assert (result.sent, result.deferred) == (1, 1)
    assert world.row("ny")["status"] == "sent"
    waiting = world.row("phx")
    assert waiting["status"] == "pending"
    assert waiting["due_at"] == datetime(2030, 6, 4, 8, 0, tzinfo=PHX)
    assert "quiet hours in America/Phoenix" in waiting["deferred_reason"]
    assert [m["to"] for m in world.twilio.outbound()] == ["+16025550101"]
    assert world.dispatch(now=datetime(2030, 6, 4, 8, 0, tzinfo=PHX)).sent == 1


def test_a_daily_cap_counts_the_recipients_day(world: Messaging) -> None:
    world.messaging.messaging_cap_per_day = 1
    add_location(world.engine, 9003, 603, coordinates=MANHATTAN)
    world.enqueue("first", customer_id=603, to="+16025550103")
    assert world.dispatch(now=datetime(2030, 6, 4, 23, 0, tzinfo=UTC)).sent == 1  # 19:00 NY
    world.enqueue("second", customer_id=603, to="+16025550103", body="second")
    # 20:30 in New York: still the recipient's day although UTC has moved on to 5 June.
    assert world.dispatch(now=datetime(2030, 6, 5, 0, 30, tzinfo=UTC)).deferred == 1
    row = world.row("second")
    assert row["due_at"] == datetime(2030, 6, 5, 0, 0, tzinfo=NY)
    assert "recipient's day in America/New_York" in row["deferred_reason"]


def test_resolution_order(world: Messaging) -> None:
    add_location(world.engine, 9004, 604, coordinates=MANHATTAN)
    add_location(world.engine, 9005, 605, state="co")
    with world.engine.connect() as conn:

        def zone(**kwargs: object) -> tuple[str, str] | None:
            args = {"tenant_id": TENANT, "customer_id": None, "phone": None, "tenant_default": None}
            found = recipient_zone.resolve(conn, **{**args, **kwargs})
            return None if found is None else (found.name, found.source)

        assert zone(customer_id=604, workflow_timezone="America/Phoenix") == (PHX.key, "workflow")
        assert zone(customer_id=604, phone="+16025550101") == (NY.key, "location coordinates")
        assert zone(customer_id=605) == ("America/Denver", "location state")
        assert zone(customer_id=606, phone="+13125550100") == ("America/Chicago", "phone")
        # A toll-free number is in no one zone: the tenant's default decides.
        assert zone(phone="+18005550100", tenant_default="America/Phoenix") == (PHX.key, "tenant")
        assert zone(phone="+18005550100") is None
        assert zone(workflow_timezone="Mars/Olympus", tenant_default="UTC") == ("UTC", "tenant")


def test_a_location_without_coordinates_is_placed_by_state_and_zip() -> None:
    place = recipient_zone.address_zone
    assert place({"state": "AZ", "zip": "85016"}) == (PHX.key, "location state")
    assert place({"state": "TX", "zip": "79901"}) == ("America/Denver", "location state and zip")
    assert place({"state": "tx", "zip": "77002"}) == ("America/Chicago", "location state and zip")
    assert place({"state": "FL", "zip": "32501"}) == ("America/Chicago", "location state and zip")
    assert place({"state": "FL", "zip": "33101"}) == (NY.key, "location state and zip")
    assert place({"state": "", "latitude": 0, "longitude": 0}) is None
    assert place({"state": "ZZ", "latitude": 95.0, "longitude": 10.0}) is None


def test_the_simulated_tenant_prints_the_zone_of_its_locations(world: Messaging) -> None:
    printed = world.sim.env["ST_TIMEZONE"]
    zones = {recipient_zone.zone_at(lat, lon) for _, _, lat, lon in catalog.CITIES}
    assert zones == {printed}
    tenants = world.sim.system("servicetitan").tenants.values()
    generated = address(next(iter(tenants)).universe, 7)
    assert recipient_zone.address_zone(generated) == (printed, "location coordinates")
