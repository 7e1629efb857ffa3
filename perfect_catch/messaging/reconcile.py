"""Settling rows left `sending` by a dispatcher that died.

A row still `sending` after `MESSAGING_CLAIM_TIMEOUT_SECONDS` may have been sent or not: the
process died before the request left, while it was in flight, or after the provider accepted it.
The provider's own record decides: found -> `sent` with that id; nothing found -> `unknown`,
held until an operator releases it (`outbox.release_unknown`), never resent blindly.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa

from perfect_catch.messaging.answers import record_sent
from perfect_catch.messaging.claims import AMONG_KEYS, SELECT_ROWS, claim_of
from perfect_catch.messaging.dispatch_result import DispatchResult
from perfect_catch.messaging.provider_lookup import lookup
from perfect_catch.messaging.providers import ProviderRefusal, Providers
from perfect_catch.settings import MessagingSettings

log = logging.getLogger(__name__)


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
                    f"{SELECT_ROWS} where status = 'sending' and claimed_at < :cutoff{AMONG_KEYS}"
                    " order by id limit 500"
                ),
                {"cutoff": cutoff, "keys": only_keys, "channels": channels},
            )
            .mappings()
            .all()
        )
    for row in rows:
        claim = claim_of(row, row["claim_token"], row["attempts"])
        try:
            found = lookup(engine, providers, claim)
        except (ProviderRefusal, ValueError) as exc:
            result.note(f"{claim.key}: reconciliation postponed: {exc}")
            continue
        if found is not None:
            if record_sent(engine, claim, found, now=now, reconciled=True):
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
