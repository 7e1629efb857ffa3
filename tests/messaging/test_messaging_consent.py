"""Consent, checked before every send: STOP/START texts, Twilio 21610, SendGrid reports and
ServiceTitan do-not-contact flags."""

from __future__ import annotations

from datetime import timedelta

import httpx
import sqlalchemy as sa
from messaging_world import CUSTOMER_E164, NOON, TENANT, Messaging

from perfect_catch.simulators.sendgrid import deliver as deliver_events


def _text_in(world: Messaging, body: str) -> dict:
    response = httpx.post(
        f"{world.sim.base_url}/twilio/_admin/inbound", json={"from": CUSTOMER_E164, "body": body}
    )
    response.raise_for_status()
    return response.json()


def test_stop_suppresses_and_start_resumes(world: Messaging) -> None:
    assert _text_in(world, "  Stop ")["webhooks"] == [
        {"url": f"{world.receiver.base_url}/twilio/inbound", "status": 200}
    ]
    opt = world.rows("select * from automation.messaging_opt_outs")
    assert [(o["address"], o["opted_out"], o["source"]) for o in opt] == [
        (CUSTOMER_E164, True, "twilio_inbound")
    ]
    world.enqueue("after-stop")
    result = world.dispatch()
    assert result.suppressed == 1 and result.sent == 0
    assert world.sms_to() == []
    assert world.row("after-stop")["status"] == "suppressed"
    assert "opt-out" in world.row("after-stop")["last_error"]

    _text_in(world, "START")
    world.enqueue("after-start")
    assert world.dispatch(now=NOON + timedelta(minutes=1)).sent == 1
    assert [m["body"] for m in world.sms_to()] == ["Hello from Perfect Catch (after-start)"]


def test_twilio_21610_records_the_opt_out_and_is_not_retried(world: Messaging) -> None:
    world.twilio.opted_out.add(CUSTOMER_E164)  # the carrier knows, our receiver never heard
    world.enqueue("blocked")
    result = world.dispatch()
    assert result.suppressed == 1 and result.retrying == 0
    row = world.row("blocked")
    assert row["status"] == "suppressed" and "21610" in row["last_error"]
    opt = world.rows("select source, opted_out from automation.messaging_opt_outs")
    assert opt == [{"source": "twilio_21610", "opted_out": True}]
    assert world.dispatch(now=NOON + timedelta(hours=2)).claimed == 0
    world.enqueue("blocked-2")
    assert world.dispatch(now=NOON + timedelta(hours=3)).suppressed == 1
    assert world.twilio.create_requests == 1


def test_servicetitan_do_not_contact_flags_suppress(world: Messaging) -> None:
    with world.engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into servicetitan.st_customers (tenant_id, id, name, do_not_service,"
                " do_not_mail, raw, modified_on, synced_at) values (:t, 1, 'A', true, false,"
                " '{}', now(), now()), (:t, 2, 'B', false, false, '{}', now(), now())"
            ),
            {"t": TENANT},
        )
        conn.execute(
            sa.text(
                "insert into servicetitan.st_customer_contacts (tenant_id, id, customer_id, type,"
                " value, raw, modified_on, synced_at) values (:t, 20, 2, 'MobilePhone',"
                " '602.555.0177', cast(:raw as jsonb), now(), now())"
            ),
            {"t": TENANT, "raw": '{"phoneSettings": {"doNotText": true}}'},
        )
    world.enqueue("dns", customer_id=1)
    world.enqueue("dnt", customer_id=2, to="+16025550177")
    world.enqueue("ok", customer_id=2, to="+16025550178")
    result = world.dispatch()
    assert (result.suppressed, result.sent) == (2, 1)
    assert "doNotService" in world.row("dns")["last_error"]
    assert "doNotText" in world.row("dnt")["last_error"]
    assert [m["to"] for m in world.twilio.outbound()] == ["+16025550178"]


def test_sendgrid_unsubscribe_suppresses_later_email(world: Messaging) -> None:
    world.enqueue("mail-1", channel="email", to="Pat@Example.com", subject="Your estimate")
    assert world.dispatch().sent == 1
    row = world.row("mail-1")
    assert row["to_address"] == "pat@example.com"
    events = world.sendgrid.advance(row["provider_id"], "delivered")
    events += world.sendgrid.advance(row["provider_id"], "unsubscribe")
    assert deliver_events([world.sendgrid.post_for(events)]) == [200]
    assert world.row("mail-1")["status"] == "delivered"
    opt = world.rows("select channel, address, source from automation.messaging_opt_outs")
    assert opt == [
        {"channel": "email", "address": "pat@example.com", "source": "sendgrid_unsubscribe"}
    ]
    world.enqueue("mail-2", channel="email", to="pat@example.com", subject="Reminder")
    assert world.dispatch(now=NOON + timedelta(minutes=5)).suppressed == 1
    assert len(world.sendgrid.mails) == 1


def test_single_recipient_check_matches_the_dispatcher(world: Messaging) -> None:
    from perfect_catch.messaging.consent import record_consent, suppression_reason

    with world.engine.begin() as conn:
        record_consent(
            conn, channel="email", address="Lee@Example.com", opted_out=True, source="test"
        )
        ask = {"tenant_id": TENANT, "customer_id": None, "channel": "email"}
        assert "opt-out" in (suppression_reason(conn, address="lee@example.com", **ask) or "")
        assert suppression_reason(conn, address="other@example.com", **ask) is None
