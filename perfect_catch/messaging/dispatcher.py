"""The dispatcher: sends due outbox rows at most once per idempotency key.

One pass (`dispatch_due`) does three things, each in its own short transactions:

1. **Reconcile** (`reconcile`) rows left in `sending` for longer than
   `MESSAGING_CLAIM_TIMEOUT_SECONDS` (their dispatcher died). The provider is asked whether it
   holds the message (`provider_lookup`). Found: the row becomes `sent` with that id. Not found:
   the row becomes `unknown`; a pass never resends it. `reconcile.reconcile` (the operators'
   `perfect-catch outbox reconcile`, `run-once` and the monitoring's healing) asks the provider
   again and releases it only when the provider says it never got it.
2. **Claim** (`claims`) due `pending` rows with `SELECT ... FOR UPDATE SKIP LOCKED` (so
   concurrent dispatchers never take the same row). For each, in one transaction: consent
   (opted out -> `suppressed`), quiet hours and frequency caps (-> stays `pending` with a later
   `due_at`), else `sending` with a fresh `claim_token`, `claimed_at` and `attempts + 1`. The
   transaction COMMITS before any provider is called.
3. **Send** (`sending`) each claimed row, then record the answer (`answers`) in one
   transaction: a `messaging_messages` row and the outbox row's new status, guarded by the
   claim token. A row that was attempted before (a retry) is first looked up at the provider
   like in step 1, so an attempt whose answer was lost (timeout, 5xx after acceptance) is not
   sent twice. (SendGrid's lookup needs the Email Activity API; without it a retry relies on
   the events already received.)

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

How a provider refusal is classified (opt-out, permanent, transient with back-off) is told in
`answers`. Nothing but a provider acceptance ever makes a row `sent`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from perfect_catch.messaging.claims import claim_due
from perfect_catch.messaging.dispatch_result import DispatchResult
from perfect_catch.messaging.providers import Providers, configured_channels
from perfect_catch.messaging.reconcile import reconcile_stale
from perfect_catch.messaging.sending import send_claim
from perfect_catch.settings import MessagingSettings, Settings


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
