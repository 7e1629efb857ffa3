"""Quiet hours defer SMS to the next allowed time; caps defer the excess; nothing is dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from messaging_world import Messaging

from perfect_catch.messaging.quiet_hours import next_allowed_time

NY = ZoneInfo("America/New_York")
#: The zone of the test customer's number (602, Phoenix): the recipient's zone here.
PHX = ZoneInfo("America/Phoenix")


def test_a_message_due_at_2230_local_is_sent_at_0800(world: Messaging) -> None:
    late = datetime(2030, 6, 4, 22, 30, tzinfo=PHX)
    world.enqueue("late", not_before=late)
    result = world.dispatch(now=late)
    assert result.deferred == 1 and result.sent == 0
    row = world.row("late")
    assert row["status"] == "pending"
    assert (row["recipient_timezone"], row["recipient_timezone_source"]) == (PHX.key, "phone")
    assert row["due_at"] == datetime(2030, 6, 5, 8, 0, tzinfo=PHX)
    assert "quiet hours in America/Phoenix" in row["deferred_reason"]
    assert world.dispatch(now=datetime(2030, 6, 5, 7, 59, tzinfo=PHX)).claimed == 0
    assert world.dispatch(now=datetime(2030, 6, 5, 8, 0, tzinfo=PHX)).sent == 1
    assert len(world.sms_to()) == 1


def test_tenant_timezone_and_message_timezone_are_used(world: Messaging) -> None:
    world.messaging.messaging_tenant_timezones = {1001: "America/Phoenix"}
    at = datetime(2030, 6, 4, 21, 30, tzinfo=NY)  # 18:30 in Phoenix
    world.enqueue("phx")
    world.enqueue("ny", metadata={"timezone": "America/New_York"})
    result = world.dispatch(now=at)
    assert (result.sent, result.deferred) == (1, 1)
    assert world.row("phx")["status"] == "sent"
    assert world.row("ny")["due_at"] == datetime(2030, 6, 5, 8, 0, tzinfo=NY)


def test_next_allowed_time_edges() -> None:
    start, end = datetime(2030, 1, 1, 21).time(), datetime(2030, 1, 1, 8).time()
    assert next_allowed_time(datetime(2030, 3, 5, 12, tzinfo=NY), NY, start, end) is None
    assert next_allowed_time(datetime(2030, 3, 5, 21, tzinfo=NY), NY, start, end) == datetime(
        2030, 3, 6, 8, tzinfo=NY
    )
    assert next_allowed_time(datetime(2030, 3, 6, 3, tzinfo=NY), NY, start, end) == datetime(
        2030, 3, 6, 8, tzinfo=NY
    )
    # Across the spring DST change the answer is still 08:00 local.
    dst = next_allowed_time(datetime(2030, 3, 10, 6, 30, tzinfo=UTC), NY, start, end)
    assert dst == datetime(2030, 3, 10, 8, tzinfo=NY)


def test_caps_defer_the_excess_to_the_recipients_next_day(world: Messaging) -> None:
    noon = datetime(2030, 6, 4, 12, tzinfo=PHX)
    for i in range(5):
        world.enqueue(f"cap{i}", customer_id=77)
    result = world.dispatch(now=noon)
    assert (result.sent, result.deferred) == (3, 2)
    deferred = [world.row(f"cap{i}") for i in (3, 4)]
    midnight = datetime(2030, 6, 5, 0, tzinfo=PHX)
    assert all(r["status"] == "pending" for r in deferred)
    assert all(r["due_at"] == midnight for r in deferred)
    assert all("3 per day" in r["deferred_reason"] for r in deferred)
    assert world.dispatch(now=datetime(2030, 6, 4, 23, 59, tzinfo=PHX)).claimed == 0
    # A new day for the recipient, but in quiet hours: held until 08:00 local, then sent.
    assert world.dispatch(now=midnight).deferred == 2
    assert world.dispatch(now=datetime(2030, 6, 5, 8, tzinfo=PHX)).sent == 2
    assert len(world.sms_to()) == 5


def test_weekly_cap(world: Messaging) -> None:
    world.messaging.messaging_cap_per_day = 0
    world.messaging.messaging_cap_per_week = 2
    noon = datetime(2030, 6, 4, 12, tzinfo=NY)
    for i in range(3):
        world.enqueue(f"w{i}", customer_id=78)
    assert world.dispatch(now=noon).sent == 2
    assert world.row("w2")["due_at"] == noon + timedelta(days=7)
