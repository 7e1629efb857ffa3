"""What providers report after a send: Twilio status callbacks and SendGrid events.

Every report is stored once in `automation.messaging_delivery_events` (deduplicated on the
provider's event identity, since both providers deliver at least once) and moves the message
forward: a status never goes back (a late `sent` callback after `delivered` changes nothing).
Reports that mean "do not contact" (Twilio 21610, SendGrid unsubscribe, spam report, bounce,
drop) also become opt-outs, which the dispatcher checks before every later send.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from perfect_catch.messaging.consent import record_consent
from perfect_catch.messaging.providers import KEY_ARG

_RANK = {"sending": 0, "sent": 1, "delivered": 2, "undelivered": 2, "failed": 2}
TWILIO_STATUS = {
    "accepted": None,
    "queued": None,
    "sending": None,
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "undelivered",
    "failed": "undelivered",
}
SENDGRID_STATUS = {
    "delivered": "delivered",
    "bounce": "undelivered",
    "dropped": "undelivered",
}
SENDGRID_OPT_OUT = {"bounce", "dropped", "spamreport", "unsubscribe", "group_unsubscribe"}
TWILIO_OPT_OUT_CODES = {"21610"}


def _store(
    conn: sa.Connection,
    *,
    provider: str,
    event_id: str,
    provider_id: str | None,
    key: str | None,
    event: str,
    error_code: str | None,
    occurred_at: datetime | None,
    payload: dict[str, Any],
) -> bool:
    """Insert the event; False when it was received before."""
    inserted = conn.execute(
        sa.text(
            "insert into automation.messaging_delivery_events (provider, event_id, provider_id,"
            " idempotency_key, event, error_code, occurred_at, payload) values (:p, :eid, :pid,"
            " :key, :event, :code, :at, cast(:payload as jsonb))"
            " on conflict (provider, event_id) do nothing returning id"
        ),
        {
            "p": provider,
            "eid": event_id,
            "pid": provider_id,
            "key": key,
            "event": event,
            "code": error_code,
            "at": occurred_at,
            "payload": orjson.dumps(payload, default=str).decode(),
        },
    ).first()
    return inserted is not None


def _advance(
    conn: sa.Connection, provider: str, provider_id: str, status: str, error: str | None
) -> None:
    rank = _RANK[status]
    conn.execute(
        sa.text(
            "update automation.messaging_messages set status = :status, error_code ="
            " coalesce(:error, error_code), updated_at = now() where provider = :p"
            " and provider_id = :pid"
        ),
        {"status": status, "error": error, "p": provider, "pid": provider_id},
    )
    lower = [name for name, value in _RANK.items() if value < rank]
    conn.execute(
        sa.text(
            "update automation.outbox set status = :status, updated_at = now(),"
            " last_error = coalesce(:why, last_error) where provider = :p and provider_id = :pid"
            " and status = any(:lower)"
        ),
        {
            "status": "undelivered" if status == "failed" else status,
            "why": None if error is None else f"{provider} reported {status} ({error})",
            "p": provider,
            "pid": provider_id,
            "lower": lower,
        },
    )


def apply_recorded_events(conn: sa.Connection, provider: str, provider_id: str) -> None:
    """Apply reports that arrived before the send itself was recorded (a fast callback)."""
    rows = conn.execute(
        sa.text(
            "select event, error_code from automation.messaging_delivery_events"
            " where provider = :p and provider_id = :pid order by id"
        ),
        {"p": provider, "pid": provider_id},
    ).all()
    table = TWILIO_STATUS if provider == "twilio" else SENDGRID_STATUS
    for row in rows:
        status = table.get(row.event)
        if status:
            _advance(conn, provider, provider_id, status, row.error_code)


def apply_twilio_status(conn: sa.Connection, form: dict[str, str], key: str | None) -> bool:
    """Record one Twilio status callback; returns False for a repeat."""
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    if not sid or not status:
        raise ValueError("Twilio status callback needs MessageSid and MessageStatus")
    code = form.get("ErrorCode") or None
    fresh = _store(
        conn,
        provider="twilio",
        event_id=f"{sid}:{status}",
        provider_id=sid,
        key=key,
        event=status,
        error_code=code,
        occurred_at=datetime.now(UTC),
        payload=dict(form),
    )
    if not fresh:
        return False
    mapped = TWILIO_STATUS.get(status)
    if mapped:
        _advance(conn, "twilio", sid, mapped, code)
    if code in TWILIO_OPT_OUT_CODES and form.get("To"):
        record_consent(
            conn,
            channel="sms",
            address=form["To"],
            opted_out=True,
            source="twilio_21610",
            reason="Twilio reported the recipient unsubscribed (21610)",
        )
    return True


def _event_time(timestamp: object) -> datetime | None:
    """The event's epoch seconds as a time; None when absent or not a representable time."""
    if not isinstance(timestamp, int | str) or not str(timestamp).isdigit():
        return None
    try:
        return datetime.fromtimestamp(int(timestamp), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def apply_sendgrid_event(conn: sa.Connection, event: dict[str, Any]) -> bool:
    """Record one SendGrid event; returns False for a repeat."""
    name = str(event.get("event") or "")
    email = str(event.get("email") or "").lower()
    if not name:
        raise ValueError("SendGrid event without 'event'")
    message_id = str(event.get("sg_message_id") or "").split(".")[0] or None
    event_id = str(event.get("sg_event_id") or f"{message_id}:{name}:{event.get('timestamp')}")
    occurred = _event_time(event.get("timestamp"))
    fresh = _store(
        conn,
        provider="sendgrid",
        event_id=event_id,
        provider_id=message_id,
        key=event.get(KEY_ARG),
        event=name,
        error_code=str(event.get("status") or event.get("type") or "") or None,
        occurred_at=occurred,
        payload=event,
    )
    if not fresh:
        return False
    mapped = SENDGRID_STATUS.get(name)
    if mapped and message_id:
        _advance(conn, "sendgrid", message_id, mapped, event.get("reason"))
    if name in SENDGRID_OPT_OUT and email:
        if name == "bounce" and str(event.get("type") or "bounce") == "blocked":
            return True
        record_consent(
            conn,
            channel="email",
            address=email,
            opted_out=True,
            source=f"sendgrid_{name}",
            reason=str(event.get("reason") or name)[:500],
        )
    return True


def apply_inbound_sms(conn: sa.Connection, form: dict[str, str], action: str | None) -> None:
    """Record an inbound SMS and, for STOP/START keywords, the consent change it carries."""
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    sender = form.get("From", "")
    _store(
        conn,
        provider="twilio",
        event_id=f"{sid}:inbound",
        provider_id=sid or None,
        key=None,
        event="inbound",
        error_code=None,
        occurred_at=datetime.now(UTC),
        payload={k: v for k, v in form.items() if k in ("MessageSid", "From", "To", "Body")},
    )
    if action and sender:
        record_consent(
            conn,
            channel="sms",
            address=sender,
            opted_out=action == "stop",
            source="twilio_inbound",
            reason=f"texted {(form.get('Body') or '').strip()[:20]!r}",
        )
