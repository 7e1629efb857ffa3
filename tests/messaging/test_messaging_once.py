"""At most one message per idempotency key: re-enqueued, re-dispatched, retried or crashed."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from messaging_world import CUSTOMER_E164, NOON, Messaging

from perfect_catch.messaging import sending
from perfect_catch.messaging.outbox import release_unknown
from perfect_catch.messaging.providers import ProviderRefusal


def test_enqueue_is_idempotent_and_normalises_the_number(world: Messaging) -> None:
    first = world.enqueue("41:remind", instance_id=41, step_key="remind")
    again = world.enqueue("41:remind", instance_id=41, step_key="remind", body="other text")
    assert first.created and not again.created
    assert again.id == first.id and again.body == first.body
    assert first.to == CUSTOMER_E164 and first.status == "pending"
    assert world.rows("select count(*) as n from automation.outbox")[0]["n"] == 1


def test_a_row_processed_twice_sends_one_message(world: Messaging) -> None:
    world.enqueue("k1")
    assert world.dispatch().sent == 1
    assert world.dispatch().sent == 0
    assert world.dispatch(now=NOON + timedelta(hours=1)).sent == 0
    world.enqueue("k1")
    assert world.dispatch(now=NOON + timedelta(hours=2)).claimed == 0
    assert len(world.sms_to()) == 1
    row = world.row("k1")
    assert row["status"] == "sent" and row["provider_id"].startswith("SM")
    assert row["provider_id"] == world.sms_to()[0]["sid"]


def test_concurrent_dispatchers_send_each_row_once(world: Messaging) -> None:
    for i in range(12):
        world.enqueue(f"c{i}", to=f"+1602555{1000 + i}")
    results = []
    threads = [threading.Thread(target=lambda: results.append(world.dispatch())) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.sent for r in results) == 12
    assert len(world.twilio.outbound()) == 12


def test_a_retried_dispatch_whose_answer_was_lost_is_not_sent_again(
    world: Messaging, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.enqueue("lost")
    provider = world.providers.for_channel("sms")
    real_send = provider.send

    def accepted_then_lost(message):  # the provider took it, the answer never came back
        real_send(message)
        raise ProviderRefusal("twilio", "Twilio unreachable (ReadTimeout)", transient=True)

    monkeypatch.setattr(provider, "send", accepted_then_lost)
    assert world.dispatch().retrying == 1
    assert world.row("lost")["status"] == "pending"
    monkeypatch.setattr(provider, "send", real_send)
    result = world.dispatch(now=NOON + timedelta(minutes=5))
    assert result.reconciled == 1 and result.sent == 0
    assert len(world.sms_to()) == 1
    assert world.row("lost")["provider_id"] == world.sms_to()[0]["sid"]


def test_a_crash_between_sent_and_recorded_never_sends_a_second_message(
    world: Messaging, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.enqueue("crash")
    real_record = sending.record_sent

    def die(*args, **kwargs):
        raise SystemExit("killed after the provider accepted the message")

    monkeypatch.setattr(sending, "record_sent", die)
    with pytest.raises(SystemExit):
        world.dispatch()
    monkeypatch.setattr(sending, "record_sent", real_record)
    assert world.row("crash")["status"] == "sending"
    assert len(world.sms_to()) == 1
    # A pass before the claim timeout leaves the row alone; one after reconciles it.
    assert world.dispatch(now=NOON + timedelta(minutes=1)).claimed == 0
    result = world.dispatch(now=NOON + timedelta(minutes=10))
    assert result.reconciled == 1 and result.sent == 0
    assert len(world.sms_to()) == 1
    row = world.row("crash")
    assert row["status"] == "sent" and row["provider_id"] == world.sms_to()[0]["sid"]
    assert world.dispatch(now=NOON + timedelta(hours=1)).sent == 0
    assert len(world.sms_to()) == 1


def test_a_crash_before_the_provider_call_is_held_as_unknown_not_resent(
    world: Messaging, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.enqueue("died")
    provider = world.providers.for_channel("sms")
    real_send = provider.send

    def die(message):
        raise SystemExit("killed before the request left")

    monkeypatch.setattr(provider, "send", die)
    with pytest.raises(SystemExit):
        world.dispatch()
    monkeypatch.setattr(provider, "send", real_send)
    result = world.dispatch(now=NOON + timedelta(minutes=10))
    assert result.unknown == 1 and result.sent == 0
    row = world.row("died")
    assert row["status"] == "unknown" and "Not resent" in row["last_error"]
    assert world.sms_to() == []
    with world.engine.begin() as conn:
        assert release_unknown(conn, "died")
    assert world.dispatch(now=NOON + timedelta(minutes=20)).sent == 1
    assert len(world.sms_to()) == 1


@pytest.mark.parametrize("events_received", [True, False])
def test_an_email_crash_is_reconciled_from_sendgrid(
    world: Messaging, monkeypatch: pytest.MonkeyPatch, events_received: bool
) -> None:
    if not events_received:  # only the Email Activity API can tell
        world.sendgrid.event_webhook_url = ""
    world.enqueue("mail-crash", channel="email", to="jo@example.com", subject="Estimate")
    real_record = sending.record_sent

    def die(*args, **kwargs):
        raise SystemExit("killed after SendGrid accepted the mail")

    monkeypatch.setattr(sending, "record_sent", die)
    with pytest.raises(SystemExit):
        world.dispatch()
    monkeypatch.setattr(sending, "record_sent", real_record)
    result = world.dispatch(now=NOON + timedelta(minutes=10))
    assert result.reconciled == 1 and result.sent == 0
    (mail_id,) = world.sendgrid.mails
    assert world.row("mail-crash")["provider_id"] == mail_id
    assert world.sendgrid.send_requests == 1
