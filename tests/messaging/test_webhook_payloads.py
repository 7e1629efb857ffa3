"""Signed webhooks with values that do not fit: 400 naming the field, nothing stored, no 500;
over-size bodies: 413; logs: no phone number or email, tracebacks included."""

from __future__ import annotations

import base64
import io
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from messaging_world import CUSTOMER_E164, Messaging
from pydantic import SecretStr

from perfect_catch.warehouse.engine import create_engine
from perfect_catch.webhooks.log_masking import MaskingFormatter

SID = "SM" + "0" * 32


def _twilio(world: Messaging, path: str, form: dict[str, str]) -> httpx.Response:
    url = f"{world.receiver.base_url}{path}"
    return httpx.post(url, data=form, headers={"X-Twilio-Signature": world.twilio.sign(url, form)})


def _sendgrid(world: Messaging, events: Any) -> httpx.Response:
    body = orjson.dumps(events)
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Twilio-Email-Event-Webhook-Signature": world.sendgrid.sign(body, stamp),
        "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
    }
    return httpx.post(f"{world.receiver.base_url}/sendgrid/events", content=body, headers=headers)


@pytest.fixture
def ghl_key(world: Messaging) -> rsa.RSAPrivateKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    world.messaging.ghl_webhook_public_key = SecretStr(pem.decode())
    return key


def _ghl(world: Messaging, key: rsa.RSAPrivateKey, payload: dict[str, Any]) -> httpx.Response:
    body = orjson.dumps(payload)
    signature = base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()
    return httpx.post(
        f"{world.receiver.base_url}/ghl", content=body, headers={"x-wh-signature": signature}
    )


def _refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 400, response.text
    assert f"'{field}'" in response.json()["error"], response.text


INBOUND = {"From": CUSTOMER_E164, "To": "+14805550100", "Body": "hi", "MessageSid": SID}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"From": "+1602\x005550142"}, "From"),
        ({"To": "x" * 300}, "To"),
        ({"MessageSid": "SM 'or 1=1"}, "MessageSid"),
        ({"MessageSid": ""}, "MessageSid"),
        ({"Extra": "a\x00b"}, "Extra"),
    ],
)
def test_malformed_twilio_inbound_fields_get_400(
    world: Messaging, change: dict[str, str], field: str
) -> None:
    _refused(_twilio(world, "/twilio/inbound", {**INBOUND, **change}), field)
    assert world.rows("select * from automation.messaging_delivery_events") == []


def test_nul_in_an_sms_body_is_stripped_not_a_500(world: Messaging) -> None:
    response = _twilio(world, "/twilio/inbound", {**INBOUND, "Body": "ST\x00OP"})
    assert response.status_code == 200
    [event] = world.rows("select payload from automation.messaging_delivery_events")
    assert event["payload"]["Body"] == "STOP"
    assert world.rows("select source from automation.messaging_opt_outs") == [
        {"source": "twilio_inbound"}
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ErrorCode": "30006; drop"}, "ErrorCode"),
        ({"MessageStatus": "Delivered!"}, "MessageStatus"),
        ({"MessageStatus": ""}, "MessageStatus"),
        ({"To": "\x00"}, "To"),
    ],
)
def test_malformed_twilio_status_fields_get_400(
    world: Messaging, change: dict[str, str], field: str
) -> None:
    form = {"MessageSid": SID, "MessageStatus": "delivered", **change}
    _refused(_twilio(world, "/twilio/status", form), field)
    assert world.rows("select * from automation.messaging_delivery_events") == []


GOOD_EVENT = {
    "event": "delivered",
    "email": "sam@example.com",
    "timestamp": 1_900_000_000,
    "sg_event_id": "ev1",
    "sg_message_id": "msg1.filter",
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timestamp": 10**15}, "events[0].timestamp"),
        ({"timestamp": -5}, "events[0].timestamp"),
        ({"timestamp": "soon"}, "events[0].timestamp"),
        ({"email": ["a@example.com"]}, "events[0].email"),
        ({"event": {"name": "delivered"}}, "events[0].event"),
        ({"event": ""}, "events[0].event"),
        ({"reason": "bad\x00reason"}, "events[0].reason"),
        ({"sg_message_id": 42}, "events[0].sg_message_id"),
        ({"category": ["ok", "n\x00ul"]}, "events[0].category[1]"),
    ],
)
def test_malformed_sendgrid_fields_get_400(
    world: Messaging, change: dict[str, Any], field: str
) -> None:
    _refused(
        _sendgrid(world, [{**GOOD_EVENT, "sg_event_id": "ok0"}, {**GOOD_EVENT, **change}]),
        field.replace("events[0]", "events[1]"),
    )
    assert world.rows("select * from automation.messaging_delivery_events") == []
    assert _sendgrid(world, [GOOD_EVENT]).status_code == 200
    [stored] = world.rows("select event, occurred_at from automation.messaging_delivery_events")
    assert stored["event"] == "delivered" and stored["occurred_at"].year == 2030


CONTACT = {
    "type": "ContactCreate",
    "locationId": "loc1",
    "id": "contact1",
    "firstName": "Ana",
    "phone": "+16025550142",
    "dateAdded": "2030-06-01T10:00:00.000Z",
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"dateAdded": "99999-01-01"}, "dateAdded"),
        ({"dateAdded": "1066-10-14T09:00:00Z"}, "dateAdded"),
        ({"phone": ["+16025550142"]}, "phone"),
        ({"firstName": "A\x00na"}, "firstName"),
        ({"tags": ["vip", 7]}, "tags[1]"),
        ({"id": {"nested": True}}, "id"),
        ({"customFields": [{"value": "\x00"}]}, "customFields[0].value"),
    ],
)
def test_malformed_ghl_fields_get_400(
    world: Messaging, ghl_key: rsa.RSAPrivateKey, change: dict[str, Any], field: str
) -> None:
    _refused(_ghl(world, ghl_key, {**CONTACT, **change}), field)
    assert world.rows("select id from integrations.ghl_contacts") == []


def test_bodies_over_the_ceiling_get_413(world: Messaging) -> None:
    url = f"{world.receiver.base_url}/sendgrid/events"
    ceiling = world.messaging.webhook_max_body_bytes
    big = httpx.post(url, content=b"[" + b" " * ceiling + b"]", headers={"x": "y"})
    assert big.status_code == 413 and "WEBHOOK_MAX_BODY_BYTES" in big.text

    def chunks() -> Iterator[bytes]:
        for _ in range(4):
            yield b" " * (ceiling // 2)

    stamp = str(int(time.time()))
    headers = {
        "X-Twilio-Email-Event-Webhook-Signature": "AAAA",
        "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
    }
    try:
        streamed = httpx.post(url, content=chunks(), headers=headers)
        assert streamed.status_code == 413
    except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
        pass
    assert httpx.get(f"{world.receiver.base_url}/health").status_code == 200


def test_a_logged_database_traceback_holds_no_phone_or_email(database_url: str) -> None:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(MaskingFormatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("tests.webhook_pii")
    logger.addHandler(handler)
    try:
        with engine.connect() as conn:
            conn.execute(
                sa.text("select cast(:phone as integer), :email"),
                {"phone": "+16025550142", "email": "sam.jones@example.com"},
            )
    except sa.exc.DataError:
        logger.exception("storing a webhook for %s failed", "(602) 555-0142")
    finally:
        logger.removeHandler(handler)
        engine.dispose()
    logged = stream.getvalue()
    assert "Traceback" in logged and "DataError" in logged
    for secret in ("6025550142", "602) 555-0142", "555-0142", "sam.jones", "example.com"):
        assert secret not in logged, logged
    assert "***0142" in logged
