"""The dispatcher: sends due outbox rows at most once per idempotency key.

One pass (`dispatch_due`) does three things, each in its own short transactions:

1. **Reconcile** rows left in `sending` for longer than `MESSAGING_CLAIM_TIMEOUT_SECONDS` (their
   dispatcher died). The provider is asked whether it holds the message: Twilio by listing
   messages to that number from our sender and matching the body among ids not yet recorded,
   SendGrid by the `outbox_key` custom argument (received events, then the Email Activity API).
   Found: the row becomes `sent` with that id. Not found: the row becomes `unknown` and stays
   there until an operator releases it (`outbox.release_unknown`); it is never resent blindly.
2. **Claim** due `pending` rows with `SELECT ... FOR UPDATE SKIP LOCKED` (so concurrent
   dispatchers never take the same row). For each, in one transaction: consent (opted out ->
   `suppressed`), quiet hours and frequency caps (-> stays `pending` with a later `due_at`), else
   `sending` with a fresh `claim_token`, `claimed_at` and `attempts + 1`. The transaction
   COMMITS before any provider is called.
3. **Send** each claimed row, then record the answer in one transaction: a `messaging_messages`
   row and the outbox row's new status, guarded by the claim token. A row that was attempted
   before (a retry) is first looked up at the provider like in step 1, so an attempt whose
   answer was lost (timeout, 5xx after acceptance) is not sent twice. (SendGrid's lookup needs
   the Email Activity API; without it a retry relies on the events already received.)

The crash window: a process that dies after the claim commit and before the result commit leaves
the row `sending`. That covers three cases that cannot be told apart locally: died before the
request left (nothing sent), died while it was in flight, died after the provider accepted it
(sent, not recorded). Step 1 settles them by the provider's own record: found -> `sent`,
nothing found -> `unknown`. Only a provider's answer (a refusal) turns `sending` back into
`pending`, and even then the retry looks the message up first, so a key is handed to a provider
at most once unless a human releases it. Rows claimed but never sent therefore need an
operator, which is the price of never double-texting a customer. The claim timeout must exceed
the provider timeout (`MESSAGING_PROVIDER_TIMEOUT_SECONDS`), so a live but slow dispatcher is
not reconciled under its feet; if it is anyway, its late result still lands (the claim token is
kept on `unknown` rows).

A provider refusal is classified: opt-out (Twilio 21610) -> opt-out recorded, row `suppressed`,
no retry; other permanent refusals (invalid number 21211, HTTP 4xx) -> `failed`; transient ones
(HTTP 429/5xx, unreachable) -> `pending` with exponential back-off, and `failed` after
`MESSAGING_MAX_ATTEMPTS`. Nothing but a provider acceptance ever makes a row `sent`.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa

from perfect_catch.messaging import caps, consent, quiet_hours
from perfect_catch.messaging.delivery import apply_recorded_events
from perfect_catch.messaging.providers import (
    Message,
    ProviderRefusal,
    Providers,
    SendOutcome,
    configured_channels,
)
from perfect_catch.settings import MessagingSettings, Settings

log = logging.getLogger(__name__)


@dataclass
class DispatchResult:
    """What one pass did, by outcome."""

    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    suppressed: int = 0
    retrying: int = 0
    failed: int = 0
    reconciled: int = 0
    unknown: int = 0
    errors: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, counter: str, n: int = 1) -> None:
        """Count an outcome (safe from the sending threads)."""
        with self._lock:
            setattr(self, counter, getattr(self, counter) + n)

    def note(self, error: str) -> None:
        with self._lock:
            self.errors.append(error)

    def as_dict(self) -> dict[str, Any]:
        return {
            "claimed": self.claimed,
            "sent": self.sent,
            "deferred": self.deferred,
            "suppressed": self.suppressed,
            "retrying": self.retrying,
            "failed": self.failed,
            "reconciled": self.reconciled,
            "unknown": self.unknown,
            "errors": list(self.errors[:20]),
        }


@dataclass(frozen=True)
class Claim:
    """A row this pass holds in `sending`."""

    id: int
    token: uuid.UUID
    key: str
    channel: str
    to: str
    body: str
    subject: str | None
    html: str | None
    attempt: int

    def message(self) -> Message:
        return Message(self.key, self.channel, self.to, self.body, self.subject, self.html)


_SELECT = (
    "select id, idempotency_key, tenant_id, customer_id, channel, to_address, subject, body,"
    " html, attempts, metadata, claim_token, claimed_at from automation.outbox"
)
_KEYS = (
    " and (cast(:keys as text[]) is null or idempotency_key = any(cast(:keys as text[])))"
    " and (cast(:channels as text[]) is null or channel = any(cast(:channels as text[])))"
)


def dispatch_due(
    engine: sa.Engine,
    settings: Settings,
    *,
    now: datetime | None = None,
    limit: int | None = None,
    providers: Providers | None = None,
    workers: int | None = None,
    only_keys: list[str] | None = None,
    channels: list[str] | None = None,
) -> DispatchResult:
    """Reconcile stale claims, claim due rows and send them; returns the counts.

    `only_keys` restricts the pass to those idempotency keys (a tool sending one message now);
    `channels` to those channels (one Dagster op per provider, each in its API pool);
    `workers` (default `MESSAGING_WORKERS`) is how many claimed rows are sent in parallel.
    """
    messaging = settings.messaging
    now = now or datetime.now(UTC)
    providers = providers or Providers(settings)
    result = DispatchResult()
    reconcile_stale(
        engine,
        providers,
        messaging,
        now=now,
        result=result,
        only_keys=only_keys,
        channels=channels,
    )
    claims = claim_due(
        engine,
        settings,
        messaging,
        now=now,
        limit=limit or messaging.messaging_batch_size,
        result=result,
        only_keys=only_keys,
        channels=channels,
    )
    workers = workers or messaging.messaging_workers
    if workers > 1 and len(claims) > 1:
        with ThreadPoolExecutor(max_workers=min(workers, len(claims))) as pool:
            for _ in pool.map(
                lambda c: send_claim(engine, providers, messaging, c, now=now, result=result),
                claims,
            ):
                pass
    else:
        for claim in claims:
            send_claim(engine, providers, messaging, claim, now=now, result=result)
    return result


def dispatch_instance(
    engine: sa.Engine,
    instance_id: int,
    settings: Settings,
    *,
    now: datetime | None = None,
) -> DispatchResult:
    """Send the due messages one workflow instance has queued, right after its steps ran,
    instead of waiting for the next outbox pass: the same claims, consent, quiet-hours and cap
    checks as `dispatch_due`, restricted to that instance's keys. A message deferred or refused
    here, or on a channel without credentials, stays in the outbox for the regular passes."""
    now = now or datetime.now(UTC)
    channels = configured_channels(settings)
    if not channels:
        return DispatchResult()
    with engine.connect() as conn:
        keys = list(
            conn.execute(
                sa.text(
                    "select idempotency_key from automation.outbox where instance_id = :instance "
                    "and status = 'pending' and due_at <= :now and channel = any(:channels)"
                ),
                {"instance": instance_id, "now": now, "channels": channels},
            ).scalars()
        )
    if not keys:
        return DispatchResult()
    return dispatch_due(engine, settings, now=now, only_keys=keys, channels=channels)


class _KnownIds:
    """Provider ids already recorded for some outbox row, checked one by one in the database
    (so a reconciliation does not load every id ever sent)."""

    def __init__(self, engine: sa.Engine, provider: str) -> None:
        self.engine = engine
        self.provider = provider

    def __contains__(self, provider_id: object) -> bool:
        with self.engine.connect() as conn:
            return (
                conn.execute(
                    sa.text(
                        "select 1 from automation.messaging_messages"
                        " where provider = :p and provider_id = :pid"
                    ),
                    {"p": self.provider, "pid": str(provider_id)},
                ).first()
                is not None
            )


def _event_provider_id(conn: sa.Connection, provider: str, key: str) -> str | None:
    return conn.execute(
        sa.text(
            "select provider_id from automation.messaging_delivery_events where provider = :p"
            " and idempotency_key = :key and provider_id is not null order by id limit 1"
        ),
        {"p": provider, "key": key},
    ).scalar()


def _lookup(engine: sa.Engine, providers: Providers, claim: Claim) -> SendOutcome | None:
    """The message the provider already holds for this claim, if any."""
    provider = providers.for_channel(claim.channel)
    known = _KnownIds(engine, provider.name)
    with engine.connect() as conn:
        seen = _event_provider_id(conn, provider.name, claim.key)
    if seen and seen not in known:
        return SendOutcome(provider.name, seen, "sent", {"source": "delivery event"})
    return provider.find(claim.message(), known)


def backlog(engine: sa.Engine, now: datetime, messaging: MessagingSettings) -> dict[str, int]:
    """Rows a pass would act on now, per channel (due pending rows and stale claims)."""
    cutoff = now - timedelta(seconds=messaging.messaging_claim_timeout_seconds)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select channel, count(*) as n from automation.outbox where (status = 'pending'"
                " and due_at <= :now) or (status = 'sending' and claimed_at < :cutoff)"
                " group by channel"
            ),
            {"now": now, "cutoff": cutoff},
        ).all()
    return {row.channel: int(row.n) for row in rows}


def reconcile_stale(
    engine: sa.Engine,
    providers: Providers,
    messaging: MessagingSettings,
    *,
    now: datetime,
    result: DispatchResult,
    only_keys: list[str] | None = None,
    channels: list[str] | None = None,
) -> None:
    """Settle rows left `sending` by a dispatcher that died (see the module docstring)."""
    cutoff = now - timedelta(seconds=messaging.messaging_claim_timeout_seconds)
    with engine.connect() as conn:
        rows = (
            conn.execute(
                sa.text(
                    f"{_SELECT} where status = 'sending' and claimed_at < :cutoff{_KEYS}"
                    " order by id limit 500"
                ),
                {"cutoff": cutoff, "keys": only_keys, "channels": channels},
            )
            .mappings()
            .all()
        )
    for row in rows:
        claim = _claim_of(row, row["claim_token"], row["attempts"])
        try:
            found = _lookup(engine, providers, claim)
        except (ProviderRefusal, ValueError) as exc:
            result.note(f"{claim.key}: reconciliation postponed: {exc}")
            continue
        if found is not None:
            if _record_sent(engine, claim, found, now=now, reconciled=True):
                result.add("reconciled")
            continue
        with engine.begin() as conn:
            changed = conn.execute(
                sa.text(
                    "update automation.outbox set status = 'unknown', updated_at = now(),"
                    " last_error = :why where id = :id and status = 'sending'"
                    " and claim_token = :token"
                ),
                {
                    "id": claim.id,
                    "token": claim.token,
                    "why": f"claimed at {row['claimed_at'].isoformat()} and never recorded; "
                    f"{providers.for_channel(claim.channel).name} holds no such message. "
                    "Not resent: check and release it (outbox.release_unknown) to send it.",
                },
            ).rowcount
        if changed:
            result.add("unknown")
            log.warning("outbox row %s (%s) is unknown: claim never recorded", claim.id, claim.key)


def _claim_of(row: sa.RowMapping, token: uuid.UUID, attempt: int) -> Claim:
    return Claim(
        id=row["id"],
        token=token,
        key=row["idempotency_key"],
        channel=row["channel"],
        to=row["to_address"],
        body=row["body"],
        subject=row["subject"],
        html=row["html"],
        attempt=attempt,
    )


def claim_due(
    engine: sa.Engine,
    settings: Settings,
    messaging: MessagingSettings,
    *,
    now: datetime,
    limit: int,
    result: DispatchResult,
    only_keys: list[str] | None = None,
    channels: list[str] | None = None,
) -> list[Claim]:
    """Take due rows: suppress, defer or mark them `sending`; commits before returning.

    Consent is checked for the whole batch in one query. With caps on, each claim is written
    at once so the next row's cap count sees it; without caps the claims are written together.
    """
    claims: list[Claim] = []
    suppressed: list[tuple[int, str]] = []
    deferred: list[tuple[int, datetime, str]] = []
    capped_on = messaging.messaging_cap_per_day > 0 or messaging.messaging_cap_per_week > 0
    with engine.begin() as conn:
        rows = (
            conn.execute(
                sa.text(
                    f"{_SELECT} where status = 'pending' and due_at <= :now{_KEYS}"
                    " order by due_at, id limit :limit for update skip locked"
                ),
                {"now": now, "limit": limit, "keys": only_keys, "channels": channels},
            )
            .mappings()
            .all()
        )
        reasons = consent.suppression_reasons(conn, [row["id"] for row in rows])
        ordered = sorted(
            rows,
            key=lambda r: (
                caps.cap_key(r["tenant_id"], r["customer_id"], r["channel"], r["to_address"]),
                r["id"],
            ),
        )
        locked: set[str] = set()
        for row in ordered:
            reason = reasons.get(row["id"])
            if reason is not None:
                suppressed.append((row["id"], reason))
                continue
            wait = _quiet_deferral(settings, messaging, row, now)
            if wait is None and capped_on:
                wait = _cap_deferral(conn, messaging, row, now, locked)
            if wait is not None:
                deferred.append((row["id"], *wait))
                continue
            claim = _claim_of(row, uuid.uuid4(), row["attempts"] + 1)
            claims.append(claim)
            if capped_on:
                _write_claims(conn, [claim], now)
        if not capped_on:
            _write_claims(conn, claims, now)
        _write_outcomes(conn, suppressed, deferred)
    result.add("suppressed", len(suppressed))
    result.add("deferred", len(deferred))
    result.add("claimed", len(claims))
    return claims


def _quiet_deferral(
    settings: Settings, messaging: MessagingSettings, row: sa.RowMapping, now: datetime
) -> tuple[datetime, str] | None:
    if row["channel"] not in messaging.messaging_quiet_hours_channels:
        return None
    tz = quiet_hours.customer_timezone(settings, messaging, row["tenant_id"], row["metadata"])
    resume = quiet_hours.next_allowed_time(
        now, tz, messaging.messaging_quiet_hours_start, messaging.messaging_quiet_hours_end
    )
    if resume is None:
        return None
    return resume, f"quiet hours in {tz.key} until {resume.isoformat()}"


def _cap_deferral(
    conn: sa.Connection,
    messaging: MessagingSettings,
    row: sa.RowMapping,
    now: datetime,
    locked: set[str],
) -> tuple[datetime, str] | None:
    key = caps.cap_key(row["tenant_id"], row["customer_id"], row["channel"], row["to_address"])
    if key not in locked:
        caps.lock_cap(conn, key)
        locked.add(key)
    capped = caps.cap_deferral(
        conn,
        messaging,
        tenant_id=row["tenant_id"],
        customer_id=row["customer_id"],
        channel=row["channel"],
        address=row["to_address"],
        now=now,
    )
    if capped is None:
        return None
    until, why = capped
    return max(until, now + timedelta(seconds=1)), why


def _write_claims(conn: sa.Connection, claims: list[Claim], now: datetime) -> None:
    if not claims:
        return
    conn.execute(
        sa.text(
            "update automation.outbox o set status = 'sending', claim_token = v.token,"
            " claimed_at = :now, attempts = v.attempt, deferred_reason = null,"
            " updated_at = now() from unnest(cast(:ids as bigint[]), cast(:tokens as uuid[]),"
            " cast(:attempts as integer[])) as v(id, token, attempt) where o.id = v.id"
        ),
        {
            "now": now,
            "ids": [c.id for c in claims],
            "tokens": [c.token for c in claims],
            "attempts": [c.attempt for c in claims],
        },
    )


def _write_outcomes(
    conn: sa.Connection,
    suppressed: list[tuple[int, str]],
    deferred: list[tuple[int, datetime, str]],
) -> None:
    if suppressed:
        conn.execute(
            sa.text(
                "update automation.outbox o set status = 'suppressed', last_error = v.why,"
                " updated_at = now() from unnest(cast(:ids as bigint[]), cast(:whys as text[]))"
                " as v(id, why) where o.id = v.id"
            ),
            {"ids": [s[0] for s in suppressed], "whys": [s[1] for s in suppressed]},
        )
    if deferred:
        conn.execute(
            sa.text(
                "update automation.outbox o set due_at = v.until, deferred_reason = v.why,"
                " updated_at = now() from unnest(cast(:ids as bigint[]),"
                " cast(:untils as timestamptz[]), cast(:whys as text[])) as v(id, until, why)"
                " where o.id = v.id"
            ),
            {
                "ids": [d[0] for d in deferred],
                "untils": [d[1] for d in deferred],
                "whys": [d[2] for d in deferred],
            },
        )


def _lookup_before_retry(
    engine: sa.Engine, providers: Providers, claim: Claim, result: DispatchResult
) -> SendOutcome | None:
    """The earlier attempt's message if the provider holds it.

    A provider that cannot be asked right now (transient) postpones the retry; one that does
    not offer the lookup at all (e.g. a SendGrid account without the Email Activity API) lets
    the retry go ahead on the evidence of received events alone.
    """
    try:
        return _lookup(engine, providers, claim)
    except ProviderRefusal as refusal:
        if refusal.transient:
            raise
        result.note(f"{claim.key}: provider lookup unavailable before retry: {refusal}")
        return None


def send_claim(
    engine: sa.Engine,
    providers: Providers,
    messaging: MessagingSettings,
    claim: Claim,
    *,
    now: datetime,
    result: DispatchResult,
) -> None:
    """Hand one claimed row to its provider and record the answer."""
    try:
        provider = providers.for_channel(claim.channel)
    except ValueError as exc:
        _record_refusal(
            engine,
            messaging,
            claim,
            ProviderRefusal(claim.channel, str(exc), transient=True),
            now=now,
            result=result,
        )
        return
    try:
        if claim.attempt > 1:
            found = _lookup_before_retry(engine, providers, claim, result)
            if found is not None:
                if _record_sent(engine, claim, found, now=now, reconciled=True):
                    result.add("reconciled")
                return
        outcome = provider.send(claim.message())
    except ProviderRefusal as refusal:
        _record_refusal(engine, messaging, claim, refusal, now=now, result=result)
        return
    if _record_sent(engine, claim, outcome, now=now, reconciled=False):
        result.add("sent")


def _record_sent(
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


def _backoff(messaging: MessagingSettings, attempt: int) -> timedelta:
    seconds = messaging.messaging_retry_base_seconds * (2 ** max(attempt - 1, 0))
    return timedelta(seconds=min(seconds, messaging.messaging_retry_max_seconds))


def _record_refusal(
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
            status, due, counter = "pending", now + _backoff(messaging, claim.attempt), "retrying"
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
