"""A provider's answer recorded: an acceptance makes the row `sent`, a refusal is classified.

Each answer is written in one transaction, a `messaging_messages` row and the outbox row's new
status, guarded by the claim token. A refusal: opt-out (Twilio 21610) -> opt-out recorded, row
`suppressed`, no retry; other permanent refusals (invalid number 21211, HTTP 4xx) -> `failed`;
transient ones (HTTP 429/5xx, unreachable) -> `pending` with exponential back-off, and `failed`
after `MESSAGING_MAX_ATTEMPTS`. Nothing but a provider acceptance ever makes a row `sent`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import orjson
import sqlalchemy as sa

from perfect_catch.messaging import consent
from perfect_catch.messaging.claims import Claim
from perfect_catch.messaging.delivery import apply_recorded_events
from perfect_catch.messaging.dispatch_result import DispatchResult
from perfect_catch.messaging.providers import ProviderRefusal, SendOutcome
from perfect_catch.settings import MessagingSettings

log = logging.getLogger(__name__)


def record_sent(
    engine: sa.Engine, claim: Claim, outcome: SendOutcome, *, now: datetime, reconciled: bool
) -> bool:
    """Write the acceptance; False when the claim was no longer ours (recorded anyway)."""
    response = {**outcome.response, **({"reconciled": True} if reconciled else {})}
    with engine.begin() as conn:
        changed, has_events = conn.execute(
            sa.text(
                "with updated as (update automation.outbox set status = 'sent', sent_at = :now,"
                " provider = :p, provider_id = :pid, last_error = null, claim_token = null,"
                " updated_at = now() where id = :oid and claim_token = :token"
                " and status in ('sending', 'unknown') returning id),"
                " inserted as (insert into automation.messaging_messages (outbox_id,"
                " idempotency_key, attempt, channel, provider, provider_id, to_address, status,"
                " response) values (:oid, :key, :attempt, :channel, :p, :pid, :to, :status,"
                " cast(:response as jsonb)) on conflict (provider, provider_id)"
                " where provider_id is not null do nothing returning id)"
                " select (select count(*) from updated), exists (select 1 from"
                " automation.messaging_delivery_events where provider = :p and provider_id = :pid)"
            ),
            {
                "oid": claim.id,
                "token": claim.token,
                "now": now,
                "key": claim.key,
                "attempt": claim.attempt,
                "channel": claim.channel,
                "p": outcome.provider,
                "pid": outcome.provider_id,
                "to": claim.to,
                "status": outcome.status,
                "response": orjson.dumps(response, default=str).decode(),
            },
        ).one()
        if has_events:
            apply_recorded_events(conn, outcome.provider, outcome.provider_id)
    if not changed:
        log.warning("outbox row %s was sent but its claim had moved on", claim.id)
    return bool(changed)


def backoff(messaging: MessagingSettings, attempt: int) -> timedelta:
    seconds = messaging.messaging_retry_base_seconds * (2 ** max(attempt - 1, 0))
    return timedelta(seconds=min(seconds, messaging.messaging_retry_max_seconds))


def record_refusal(
    engine: sa.Engine,
    messaging: MessagingSettings,
    claim: Claim,
    refusal: ProviderRefusal,
    *,
    now: datetime,
    result: DispatchResult,
) -> None:
    error = str(refusal)
    with engine.begin() as conn:
        if refusal.opt_out:
            consent.record_consent(
                conn,
                channel=claim.channel,
                address=claim.to,
                opted_out=True,
                source=f"{refusal.provider}_{refusal.code}",
                reason=error,
            )
            status, due, counter = "suppressed", None, "suppressed"
        elif not refusal.transient:
            status, due, counter = "failed", None, "failed"
        elif claim.attempt >= messaging.messaging_max_attempts:
            status, due, counter = "failed", None, "failed"
            error = f"gave up after {claim.attempt} attempts: {error}"
        else:
            status, due, counter = "pending", now + backoff(messaging, claim.attempt), "retrying"
        changed = conn.execute(
            sa.text(
                "update automation.outbox set status = :status, last_error = :error,"
                " due_at = coalesce(:due, due_at), claim_token = null, updated_at = now()"
                " where id = :id and claim_token = :token and status = 'sending'"
            ),
            {"id": claim.id, "token": claim.token, "status": status, "error": error, "due": due},
        ).rowcount
        conn.execute(
            sa.text(
                "insert into automation.messaging_messages (outbox_id, idempotency_key, attempt,"
                " channel, provider, to_address, status, error_code, error_message, response)"
                " values (:oid, :key, :attempt, :channel, :p, :to, 'failed', :code, :error,"
                " cast(:response as jsonb))"
            ),
            {
                "oid": claim.id,
                "key": claim.key,
                "attempt": claim.attempt,
                "channel": claim.channel,
                "p": refusal.provider,
                "to": claim.to,
                "code": refusal.code,
                "error": error[:1000],
                "response": orjson.dumps(refusal.response, default=str).decode(),
            },
        )
    if changed:
        result.add(counter)
        if status == "failed":
            result.note(f"{claim.key}: {error}")
