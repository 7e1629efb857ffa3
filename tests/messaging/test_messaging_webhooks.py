"""The webhook receiver: signatures are checked, callbacks move statuses, repeats are no-ops."""

from __future__ import annotations

import base64

import httpx
import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from messaging_world import CUSTOMER_E164, Messaging
from pydantic import SecretStr

from perfect_catch.simulators.twilio import deliver


def test_forged_twilio_webhooks_are_rejected(world: Messaging) -> None:
    form = {
        "From": CUSTOMER_E164,
        "To": world.twilio.from_number,
        "Body": "STOP",
        "MessageSid": "SM" + "0" * 32,
        "AccountSid": world.twilio.account_sid,
    }
    url = f"{world.receiver.base_url}/twilio/inbound"
    forged = world.twilio.sign(url, {**form, "Body": "hello"})
    for headers in ({}, {"X-Twilio-Signature": forged}, {"X-Twilio-Signature": "AAAA"}):
        response = httpx.post(url, data=form, headers=headers)
        assert response.status_code == 403
        assert world.twilio.auth_token not in response.text
    assert world.rows("select * from automation.messaging_opt_outs") == []
    genuine = httpx.post(
        url, data=form, headers={"X-Twilio-Signature": world.twilio.sign(url, form)}
    )
    assert genuine.status_code == 200 and b"<Response>" in genuine.content
    assert len(world.rows("select * from automation.messaging_opt_outs")) == 1


def test_status_callbacks_move_the_message_to_delivered_once(world: Messaging) -> None:
    world.enqueue("cb")
    world.enqueue("cb-fail", to="+16025550199")
    world.dispatch()
    sid = world.row("cb")["provider_id"]
    hooks = world.twilio.advance(sid, "delivered")
    assert [h.form["MessageStatus"] for h in hooks] == ["sent", "delivered"]
    assert all("key=cb" in h.url for h in hooks)
    assert deliver(hooks) == [204, 204]
    assert deliver(hooks) == [204, 204]  # Twilio retries: nothing changes twice
    assert world.row("cb")["status"] == "delivered"
    events = world.rows(
        "select event, idempotency_key from automation.messaging_delivery_events"
        " where provider_id = :sid order by id",
        sid=sid,
    )
    assert events == [
        {"event": "sent", "idempotency_key": "cb"},
        {"event": "delivered", "idempotency_key": "cb"},
    ]
    response = httpx.post(
        f"{world.sim.base_url}/twilio/_admin/advance",
        json={
            "sid": world.row("cb-fail")["provider_id"],
            "outcome": "undelivered",
            "error_code": 30006,
        },
    )
    assert [c["status"] for c in response.json()["callbacks"]] == [204, 204]
    row = world.row("cb-fail")
    assert row["status"] == "undelivered" and "30006" in row["last_error"]
    forged = httpx.post(
        f"{world.receiver.base_url}/twilio/status?key=cb",
        data={"MessageSid": sid, "MessageStatus": "failed"},
    )
    assert forged.status_code == 403 and world.row("cb")["status"] == "delivered"


def test_sendgrid_events_need_a_valid_signature(world: Messaging) -> None:
    world.enqueue("mail", channel="email", to="sam@example.com", subject="Hi")
    world.dispatch()
    events = world.sendgrid.advance(world.row("mail")["provider_id"], "spamreport")
    post = world.sendgrid.post_for(events)
    assert post is not None
    url = f"{world.receiver.base_url}/sendgrid/events"
    tampered = post.body.replace(b"spamreport", b"delivered")
    assert httpx.post(url, content=tampered, headers=post.headers).status_code == 403
    assert httpx.post(url, content=post.body).status_code == 403
    assert world.rows("select * from automation.messaging_opt_outs") == []
    assert httpx.post(url, content=post.body, headers=post.headers).status_code == 200
    assert world.rows("select source from automation.messaging_opt_outs") == [
        {"source": "sendgrid_spamreport"}
    ]


def test_ghl_webhooks_are_verified_and_applied(world: Messaging) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    world.messaging.ghl_webhook_public_key = SecretStr(pem.decode())
    payload = {
        "type": "ContactCreate",
        "locationId": "loc1",
        "id": "contact1",
        "firstName": "Ana",
        "phone": "+16025550142",
        "dateAdded": "2030-06-01T10:00:00.000Z",
    }
    body = orjson.dumps(payload)
    signature = base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()
    url = f"{world.receiver.base_url}/ghl"
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = base64.b64encode(other.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()
    assert httpx.post(url, content=body, headers={"x-wh-signature": forged}).status_code == 403
    response = httpx.post(url, content=body, headers={"x-wh-signature": signature})
    assert response.status_code == 200 and response.json() == {"outcome": "written"}
    assert world.rows("select id from integrations.ghl_contacts") == [{"id": "contact1"}]
