"""The outbox: every customer message is first a row here, keyed by an idempotency key.

Workflow steps and tools never call a provider. They `enqueue` in their own transaction (so the
step's bookkeeping and its message commit together) and the dispatcher sends later. The unique
`idempotency_key` (`f"{instance_id}:{step_key}"` for workflow steps) makes a retried or re-run
step find the row it already wrote: `enqueue` inserts with `ON CONFLICT DO NOTHING` and returns
the existing row, whatever its state, and never changes it.

A recipient that cannot be used (a phone number that is no number, an email without a domain) is
not refused with an exception: the row is written with status `failed` and `last_error` naming
the address. The caller gets a definite, recorded answer, the outbox shows why nothing was sent,
and a re-run with the same key returns the same failure instead of raising again.

Statuses: `pending` (waiting for `due_at`: new, deferred by quiet hours or caps, or awaiting a
retry), `sending` (claimed and handed to a provider), `sent` (provider accepted it),
`delivered` / `undelivered` (provider's final word), `failed` (invalid recipient, permanent
provider refusal or attempts exhausted), `suppressed` (consent forbids it), `unknown` (a claim
whose outcome could not be established; a human decides, see the dispatcher).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson
import sqlalchemy as sa

from perfect_catch.messaging import recipient_zone
from perfect_catch.messaging.recipient_zone import RecipientZone
from perfect_catch.phones import InvalidPhoneError, require_e164
from perfect_catch.settings import Channel

Status = Literal[
    "pending", "sending", "sent", "delivered", "undelivered", "failed", "suppressed", "unknown"
]
STATUSES: tuple[str, ...] = (
    "pending",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "suppressed",
    "unknown",
)
#: Statuses after which the dispatcher will never touch the row again.
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed", "suppressed"})

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_COLUMNS = (
    "id, idempotency_key, instance_id, step_key, tenant_id, customer_id, channel, to_address,"
    " subject, body, status, not_before, due_at, attempts, sent_at, provider, provider_id,"
    " last_error, deferred_reason, metadata, created_at, updated_at, recipient_timezone,"
    " recipient_timezone_source"
)


class InvalidRecipientError(ValueError):
    """The address of a message cannot be used; the message names it."""


@dataclass(frozen=True)
class OutboxEntry:
    """One outbox row as callers see it. `created` is False when the key already existed."""

    id: int
    idempotency_key: str
    instance_id: int | None
    step_key: str | None
    tenant_id: int
    customer_id: int | None
    channel: Channel
    to: str
    subject: str | None
    body: str
    status: Status
    not_before: datetime | None
    due_at: datetime
    attempts: int
    sent_at: datetime | None
    provider: str | None
    provider_id: str | None
    last_error: str | None
    deferred_reason: str | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    created: bool = False
    recipient_timezone: str | None = None
    recipient_timezone_source: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The entry as plain values (the body is left out: it may be long)."""
        return {
            "id": self.id,
            "idempotency_key": self.idempotency_key,
            "status": self.status,
            "channel": self.channel,
            "to": self.to,
            "tenant_id": self.tenant_id,
            "customer_id": self.customer_id,
            "instance_id": self.instance_id,
            "step_key": self.step_key,
            "subject": self.subject,
            "not_before": self.not_before,
            "due_at": self.due_at,
            "attempts": self.attempts,
            "sent_at": self.sent_at,
            "provider": self.provider,
            "provider_id": self.provider_id,
            "last_error": self.last_error,
            "deferred_reason": self.deferred_reason,
            "recipient_timezone": self.recipient_timezone,
            "recipient_timezone_source": self.recipient_timezone_source,
            "created": self.created,
        }


def _entry(row: sa.RowMapping, created: bool) -> OutboxEntry:
    return OutboxEntry(
        id=row["id"],
        idempotency_key=row["idempotency_key"],
        instance_id=row["instance_id"],
        step_key=row["step_key"],
        tenant_id=row["tenant_id"],
        customer_id=row["customer_id"],
        channel=row["channel"],
        to=row["to_address"],
        subject=row["subject"],
        body=row["body"],
        status=row["status"],
        not_before=row["not_before"],
        due_at=row["due_at"],
        attempts=row["attempts"],
        sent_at=row["sent_at"],
        provider=row["provider"],
        provider_id=row["provider_id"],
        last_error=row["last_error"],
        deferred_reason=row["deferred_reason"],
        metadata=dict(row["metadata"] or {}),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        created=created,
        recipient_timezone=row["recipient_timezone"],
        recipient_timezone_source=row["recipient_timezone_source"],
    )


def normalize_recipient(channel: str, to: str) -> str:
    """The canonical address: E.164 for SMS, lower-cased for email; or a clear error."""
    if channel == "sms":
        try:
            return require_e164(to)
        except InvalidPhoneError as exc:
            raise InvalidRecipientError(str(exc)) from None
    if channel == "email":
        address = (to or "").strip().lower()
        if not _EMAIL.match(address):
            raise InvalidRecipientError(f"invalid email address {to!r}")
        return address
    raise InvalidRecipientError(f"unknown channel {channel!r}; use 'sms' or 'email'")


def enqueue(
    conn: sa.Connection,
    *,
    idempotency_key: str,
    instance_id: int | None,
    step_key: str | None,
    tenant_id: int,
    customer_id: int | None,
    channel: Channel,
    to: str,
    body: str,
    subject: str | None = None,
    html: str | None = None,
    not_before: datetime | None = None,
    metadata: dict | None = None,
    timezone: RecipientZone | None = None,
) -> OutboxEntry:
    """Write the message once per `idempotency_key`, in the caller's transaction.

    Returns the row written now (`created=True`) or the one written before under the same key
    (`created=False`, unchanged). An unusable recipient gives a `failed` row whose `last_error`
    names it; an unknown channel, an empty key or body raise `ValueError` (a programming error).

    `timezone` is the recipient's zone as the caller resolved it (`recipient_zone.resolve`, with
    the workflow's zone and the tenant's default); without it the zone is resolved here from
    metadata `timezone`, the service location and the phone number, and a row none of them
    places is measured in the tenant's zone when it is dispatched.
    """
    if not idempotency_key:
        raise ValueError("idempotency_key must not be empty")
    if channel not in ("sms", "email"):
        raise ValueError(f"unknown channel {channel!r}; use 'sms' or 'email'")
    if not body:
        raise ValueError(f"message {idempotency_key!r} has an empty body")
    if not_before is not None and not_before.tzinfo is None:
        raise ValueError("not_before must be timezone-aware")
    if channel == "email" and not subject:
        raise ValueError(f"email {idempotency_key!r} needs a subject")
    status, error, address = "pending", None, (to or "").strip()
    try:
        address = normalize_recipient(channel, to)
    except InvalidRecipientError as exc:
        status, error = "failed", str(exc)
    if timezone is None and status == "pending":
        timezone = recipient_zone.resolve(
            conn,
            tenant_id=tenant_id,
            customer_id=customer_id,
            phone=address if channel == "sms" else None,
            tenant_default=None,
            caller_timezone=(metadata or {}).get("timezone"),
        )
    row = (
        conn.execute(
            sa.text(
                "insert into automation.outbox (idempotency_key, instance_id, step_key, tenant_id,"
                " customer_id, channel, to_address, subject, body, html, status, not_before,"
                " due_at, last_error, metadata, recipient_timezone, recipient_timezone_source)"
                " values (:key, :instance, :step, :tenant,"
                " :customer, :channel, :to, :subject, :body, :html, :status, :not_before,"
                " coalesce(cast(:not_before as timestamptz), now()), :error,"
                " cast(:metadata as jsonb), :zone, :zone_source)"
                f" on conflict (idempotency_key) do nothing returning {_COLUMNS}"
            ),
            {
                "key": idempotency_key,
                "instance": instance_id,
                "step": step_key,
                "tenant": tenant_id,
                "customer": customer_id,
                "channel": channel,
                "to": address,
                "subject": subject,
                "body": body,
                "html": html,
                "status": status,
                "not_before": not_before,
                "error": error,
                "metadata": orjson.dumps(metadata or {}, default=str).decode(),
                "zone": timezone.name if timezone else None,
                "zone_source": timezone.source if timezone else None,
            },
        )
        .mappings()
        .first()
    )
    if row is not None:
        return _entry(row, created=True)
    existing = get_entry(conn, idempotency_key)
    if existing is None:
        raise RuntimeError(f"outbox row {idempotency_key!r} conflicted but cannot be read")
    return existing


def get_entry(conn: sa.Connection, idempotency_key: str) -> OutboxEntry | None:
    """The row under `idempotency_key`, or None."""
    row = (
        conn.execute(
            sa.text(f"select {_COLUMNS} from automation.outbox where idempotency_key = :key"),
            {"key": idempotency_key},
        )
        .mappings()
        .first()
    )
    return None if row is None else _entry(row, created=False)


def get_entry_by_id(conn: sa.Connection, outbox_id: int) -> OutboxEntry | None:
    """The row with primary key `outbox_id`, or None."""
    row = (
        conn.execute(
            sa.text(f"select {_COLUMNS} from automation.outbox where id = :id"), {"id": outbox_id}
        )
        .mappings()
        .first()
    )
    return None if row is None else _entry(row, created=False)


def release_unknown(conn: sa.Connection, idempotency_key: str) -> bool:
    """Put an `unknown` row back to `pending` after a human checked it was never sent.

    This is the only way out of `unknown`: it re-arms a send the platform could not prove
    did not happen, so it is never done automatically.
    """
    result = conn.execute(
        sa.text(
            "update automation.outbox set status = 'pending', due_at = now(), claim_token = null,"
            " claimed_at = null, updated_at = now(), last_error = 'released by operator: '"
            " || coalesce(last_error, '') where idempotency_key = :key and status = 'unknown'"
        ),
        {"key": idempotency_key},
    )
    return bool(result.rowcount)
