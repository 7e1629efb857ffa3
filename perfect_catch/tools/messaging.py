"""Messaging: text or email a customer and follow what happened to a message.

Sending goes through the outbox like every workflow step, so a tool call gets the same
guarantees: one message per idempotency key, opt-outs and ServiceTitan do-not-contact flags
honoured, quiet hours and frequency caps applied (the message waits instead of being dropped).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from perfect_catch.messaging import recipient_zone
from perfect_catch.messaging.dispatcher import dispatch_due
from perfect_catch.messaging.outbox import OutboxEntry, enqueue, get_entry
from perfect_catch.tools import lookup
from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.errors import NotFoundError, ToolInputError
from perfect_catch.tools.registry import tool

_PHONE_TYPES = ("MobilePhone", "Phone")


class _SendInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: int | None = Field(
        None, description="ServiceTitan customer id; their contact is used when `to` is empty."
    )
    send_at: AwareDatetime | None = Field(
        None, description="Do not send before this time (ISO 8601 with offset)."
    )
    idempotency_key: str | None = Field(
        None,
        max_length=200,
        description="Key making retries safe; by default the same text to the same recipient "
        "on the same day is sent once.",
    )
    dispatch_now: bool = Field(
        True, description="Try to send right away (still subject to consent, hours and caps)."
    )
    tenant_id: int | None = None


class SendSmsInput(_SendInput):
    to: str | None = Field(None, description="Phone number in any format ('(602) 555-0142').")
    body: str = Field(..., min_length=1, max_length=1600, description="Text of the message.")

    @model_validator(mode="after")
    def _recipient(self) -> SendSmsInput:
        if not self.to and self.customer_id is None:
            raise ValueError("give `to` or `customer_id`")
        return self


class SendEmailInput(_SendInput):
    to: str | None = Field(None, description="Email address.")
    subject: str = Field(..., min_length=1, max_length=300)
    body: str = Field(..., min_length=1, max_length=100_000, description="Plain-text body.")
    html: str | None = Field(None, max_length=200_000, description="Optional HTML body.")

    @model_validator(mode="after")
    def _recipient(self) -> SendEmailInput:
        if not self.to and self.customer_id is None:
            raise ValueError("give `to` or `customer_id`")
        return self


def _contact(conn: sa.Connection, tenant_id: int, customer_id: int, channel: str) -> str:
    types = list(_PHONE_TYPES) if channel == "sms" else ["Email"]
    found = lookup.rows(
        conn,
        """select value from servicetitan.st_customer_contacts
           where tenant_id = :tenant and customer_id = :customer and deleted_at is null
             and coalesce(active, true) and type = any(:types)
           order by array_position(cast(:types as text[]), type), id limit 1""",
        tenant=tenant_id,
        customer=customer_id,
        types=types,
    )
    if not found:
        kind = "phone" if channel == "sms" else "email"
        raise NotFoundError(f"customer {customer_id} has no active {kind} contact; pass `to`")
    return str(found[0]["value"])


def _send(
    context: ToolContext,
    params: SendSmsInput | SendEmailInput,
    channel: Literal["sms", "email"],
) -> dict[str, Any]:
    tenant_id = context.tenant(params.tenant_id)
    subject = getattr(params, "subject", None)
    with context.engine.begin() as conn:
        to = params.to or _contact(conn, tenant_id, params.customer_id or 0, channel)
        key = (
            params.idempotency_key
            or "mcp:"
            + hashlib.sha256(
                "|".join(
                    (
                        channel,
                        str(tenant_id),
                        str(params.customer_id),
                        to.strip().lower(),
                        subject or "",
                        params.body,
                        datetime.now(UTC).date().isoformat(),
                    )
                ).encode()
            ).hexdigest()[:32]
        )
        zone = recipient_zone.resolve(
            conn,
            tenant_id=tenant_id,
            customer_id=params.customer_id,
            phone=to if channel == "sms" else None,
            tenant_default=recipient_zone.tenant_timezone(
                context.settings, context.settings.messaging, tenant_id
            ),
        )
        entry = enqueue(
            conn,
            idempotency_key=key,
            instance_id=None,
            step_key=None,
            tenant_id=tenant_id,
            customer_id=params.customer_id,
            channel=channel,
            to=to,
            body=params.body,
            subject=subject,
            html=getattr(params, "html", None),
            not_before=params.send_at,
            metadata={"source": "mcp"},
            timezone=zone,
        )
    if entry.status == "failed" and entry.created:
        raise ToolInputError(f"not sent: {entry.last_error}")
    if params.dispatch_now and entry.status == "pending":
        dispatch_due(context.engine, context.settings, only_keys=[key], limit=1)
    return _state(context, key)


def _state(context: ToolContext, key: str) -> dict[str, Any]:
    with context.engine.connect() as conn:
        entry = get_entry(conn, key)
        if entry is None:
            raise NotFoundError(f"no message with idempotency key {key!r}")
        attempts = lookup.rows(
            conn,
            """select attempt, provider, provider_id, status, error_code, error_message,
                      created_at, updated_at
               from automation.messaging_messages where outbox_id = :id order by id""",
            id=entry.id,
        )
        events = lookup.rows(
            conn,
            """select e.event, e.error_code, e.occurred_at, e.received_at
               from automation.messaging_delivery_events e
               where e.provider = :provider and e.provider_id = :pid order by e.id""",
            provider=entry.provider,
            pid=entry.provider_id,
        )
    return {"message": _describe(entry), "attempts": attempts, "events": events}


def _describe(entry: OutboxEntry) -> dict[str, Any]:
    out = entry.as_dict()
    out.pop("created", None)
    out["meaning"] = {
        "pending": "waiting to be sent (see due_at and deferred_reason)",
        "sending": "handed to the provider, answer not recorded yet",
        "sent": "accepted by the provider",
        "delivered": "the provider reports it delivered",
        "undelivered": "the provider could not deliver it",
        "failed": "not sent (see last_error)",
        "suppressed": "not sent: the recipient opted out or is marked do-not-contact",
        "unknown": "outcome unclear after a crash; an operator must check before resending",
    }[entry.status]
    return out


@tool("send_sms", read_only=False, idempotent=True, open_world=True, title="Send an SMS")
def send_sms(context: ToolContext, params: SendSmsInput) -> dict[str, Any]:
    """Text a customer (by phone number or ServiceTitan customer id) through the outbox.
    Opt-outs (STOP) and do-not-contact flags block it; in quiet hours (21:00-08:00 customer
    time) or over the frequency cap it waits and is sent later. Returns the message state
    (pending, sent, suppressed, failed...) with its idempotency key for get_message_status."""
    return _send(context, params, "sms")


@tool("send_email", read_only=False, idempotent=True, open_world=True, title="Send an email")
def send_email(context: ToolContext, params: SendEmailInput) -> dict[str, Any]:
    """Email a customer (by address or ServiceTitan customer id) through the outbox.
    Unsubscribes, bounces, spam reports and do-not-contact flags block it; frequency caps
    make it wait. Returns the message state with its idempotency key for get_message_status."""
    return _send(context, params, "email")


class MessageStatusInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    idempotency_key: str | None = Field(None, description="Key returned by send_sms/send_email.")
    outbox_id: int | None = Field(None, description="Outbox row id.")

    @model_validator(mode="after")
    def _one(self) -> MessageStatusInput:
        if (self.idempotency_key is None) == (self.outbox_id is None):
            raise ValueError("give exactly one of idempotency_key or outbox_id")
        return self


@tool("get_message_status", read_only=True, idempotent=True, title="Message status")
def get_message_status(context: ToolContext, params: MessageStatusInput) -> dict[str, Any]:
    """Where a message is: waiting (and why: quiet hours, frequency cap, retry), sent,
    delivered, undelivered, failed (with the provider's error) or suppressed (opt-out), with
    each provider attempt and delivery report."""
    key = params.idempotency_key
    if key is None:
        with context.engine.connect() as conn:
            key = conn.execute(
                sa.text("select idempotency_key from automation.outbox where id = :id"),
                {"id": params.outbox_id},
            ).scalar()
        if key is None:
            raise NotFoundError(f"no message with outbox id {params.outbox_id}")
    return _state(context, key)
