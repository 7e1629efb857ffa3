"""Provider failures are retried with back-off, then reported; never counted as delivered.
Invalid recipients fail clearly."""

from __future__ import annotations

from datetime import timedelta

from messaging_world import NOON, Messaging


def test_a_provider_failure_is_retried_then_reported(world: Messaging) -> None:
    world.messaging.messaging_max_attempts = 3
    world.sim.set_faults(rate_5xx=1.0)
    world.enqueue("flaky")
    first = world.dispatch()
    assert first.retrying == 1 and first.sent == 0
    row = world.row("flaky")
    assert row["status"] == "pending" and row["attempts"] == 1
    assert row["due_at"] == NOON + timedelta(seconds=60)
    assert "Twilio" in row["last_error"]
    assert world.dispatch(now=NOON + timedelta(seconds=30)).claimed == 0
    assert world.dispatch(now=NOON + timedelta(seconds=60)).retrying == 1
    assert world.row("flaky")["due_at"] == NOON + timedelta(seconds=180)
    last = world.dispatch(now=NOON + timedelta(seconds=180))
    assert last.failed == 1 and "gave up after 3 attempts" in last.errors[0]
    row = world.row("flaky")
    assert row["status"] == "failed" and row["sent_at"] is None and row["provider_id"] is None
    attempts = world.rows(
        "select status from automation.messaging_messages where idempotency_key = 'flaky'"
    )
    assert [a["status"] for a in attempts] == ["failed"] * 3
    world.sim.set_faults(rate_5xx=0.0)
    assert world.dispatch(now=NOON + timedelta(days=1)).claimed == 0
    assert world.sms_to() == []


def test_a_recovered_provider_delivers_on_retry(world: Messaging) -> None:
    world.sim.set_faults(rate_5xx=1.0)
    world.enqueue("recovers")
    assert world.dispatch().retrying == 1
    world.sim.set_faults(rate_5xx=0.0)
    assert world.dispatch(now=NOON + timedelta(minutes=1)).sent == 1
    assert len(world.sms_to()) == 1


def test_invalid_phone_fails_clearly_at_enqueue(world: Messaging) -> None:
    entry = world.enqueue("bad", to="555-01")
    assert entry.status == "failed"
    assert entry.last_error is not None and "'555-01'" in entry.last_error
    nanp = world.enqueue("bad-area", to="(123) 555-0100")
    assert nanp.status == "failed" and "area code" in (nanp.last_error or "")
    assert world.dispatch().claimed == 0
    assert world.twilio.create_requests == 0


def test_twilio_invalid_number_is_a_permanent_failure(world: Messaging) -> None:
    world.enqueue("magic", to="+15005550001")
    result = world.dispatch()
    assert result.failed == 1 and result.retrying == 0
    row = world.row("magic")
    assert row["status"] == "failed" and "Twilio 21211" in row["last_error"]
    assert "+15005550001" in row["last_error"]


def test_invalid_email_fails_clearly(world: Messaging) -> None:
    entry = world.enqueue("bad-mail", channel="email", to="not-an-address", subject="Hi")
    assert entry.status == "failed" and "'not-an-address'" in (entry.last_error or "")
