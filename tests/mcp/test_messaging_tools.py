"""Messaging tools through the MCP client: sends go through the outbox (one message per key),
consent is honoured, bad recipients are refused clearly and statuses can be followed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from perfect_catch.messaging.consent import record_consent

if TYPE_CHECKING:
    from tests.mcp.conftest import World


@pytest.fixture(scope="module")
def mworld(make_world, st_sim) -> Iterator[World]:
    env = st_sim.env
    keys = (
        "TWILIO_API_URL",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_FROM_NUMBER",
        "SENDGRID_API_URL",
        "SENDGRID_API_KEY",
        "SENDGRID_FROM_EMAIL",
    )
    # Quiet hours and caps off: these tests run at any wall-clock time and expect immediate sends.
    yield make_world(
        **{key.lower(): env[key] for key in keys},
        messaging_quiet_hours_start="00:00",
        messaging_quiet_hours_end="00:00",
        messaging_cap_per_day=0,
        messaging_cap_per_week=0,
    )


def _texts_to(world: World, number: str) -> list[dict[str, Any]]:
    return [m for m in world.sim.system("twilio").outbound() if m["to"] == number]


def test_send_sms_is_sent_once_per_key(mworld: World) -> None:
    args = {"to": "(480) 555-0101", "body": "Your technician is on the way."}
    first = mworld.ok("send_sms", args)
    assert first["message"]["status"] == "sent"
    assert first["message"]["to"] == "+14805550101"
    assert first["attempts"][0]["provider_id"].startswith("SM")
    again = mworld.ok("send_sms", args)
    assert again["message"]["idempotency_key"] == first["message"]["idempotency_key"]
    assert len(_texts_to(mworld, "+14805550101")) == 1
    keyed = mworld.ok("send_sms", {**args, "idempotency_key": "visit-2"})
    assert keyed["message"]["idempotency_key"] == "visit-2"
    assert len(_texts_to(mworld, "+14805550101")) == 2


def test_send_sms_to_a_customer_uses_their_phone(mworld: World) -> None:
    customer = mworld.rows(
        """select c.id, integrations.e164(k.value) as phone
           from servicetitan.st_customers c
           join servicetitan.st_customer_contacts k
             on k.tenant_id = c.tenant_id and k.customer_id = c.id
           where c.tenant_id = :t and not coalesce(c.do_not_mail, false)
             and not coalesce(c.do_not_service, false) and k.type = 'MobilePhone'
             and coalesce(k.active, true) and k.deleted_at is null
             and coalesce(k.raw -> 'phoneSettings' ->> 'doNotText', 'false') = 'false'
             and not exists (select 1 from servicetitan.st_customer_contacts o
                             where o.tenant_id = c.tenant_id and o.customer_id = c.id
                               and o.type = 'MobilePhone' and o.id < k.id)
           order by c.id limit 1""",
        t=mworld.tenant_id,
    )[0]
    result = mworld.ok("send_sms", {"customer_id": customer["id"], "body": "Reminder: tomorrow"})
    assert result["message"]["status"] == "sent"
    assert result["message"]["to"] == customer["phone"]
    assert result["message"]["customer_id"] == customer["id"]


def test_opted_out_recipients_are_not_texted(mworld: World) -> None:
    with mworld.engine.begin() as conn:
        record_consent(
            conn, channel="sms", address="+14805550102", opted_out=True, source="twilio_inbound"
        )
    result = mworld.ok("send_sms", {"to": "480-555-0102", "body": "Special offer"})
    assert result["message"]["status"] == "suppressed"
    assert "opt-out" in result["message"]["last_error"]
    assert _texts_to(mworld, "+14805550102") == []


def test_invalid_phone_is_refused_clearly(mworld: World) -> None:
    text = mworld.error("send_sms", {"to": "12345", "body": "hi"})
    assert "invalid phone number '12345'" in text
    assert "give `to` or `customer_id`" in mworld.error("send_sms", {"body": "hi"})


def test_send_email_and_follow_its_status(mworld: World) -> None:
    sent = mworld.ok(
        "send_email",
        {
            "to": "Kim@Example.com",
            "subject": "Your estimate",
            "body": "Attached.",
            "html": "<p>x</p>",
        },
    )
    key = sent["message"]["idempotency_key"]
    assert sent["message"]["status"] == "sent" and sent["message"]["to"] == "kim@example.com"
    status = mworld.ok("get_message_status", {"idempotency_key": key})
    assert status["message"]["provider"] == "sendgrid"
    assert status["message"]["meaning"] == "accepted by the provider"
    by_id = mworld.ok("get_message_status", {"outbox_id": sent["message"]["id"]})
    assert by_id["message"]["idempotency_key"] == key
    assert "no message" in mworld.error("get_message_status", {"idempotency_key": "nope"})
