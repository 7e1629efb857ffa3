"""Settling rows whose send cannot be proven either way: the one reconciliation of the outbox.

A row still `sending` after `MESSAGING_CLAIM_TIMEOUT_SECONDS` may have been sent or not: the
process died before the request left, while it was in flight, or after the provider accepted it.
The provider's own record decides. Each dispatcher pass (`reconcile_stale`) settles such rows:
found -> `sent` with that id; nothing found -> `unknown`, never resent by the pass itself.

`reconcile` is what an operator (`perfect-catch outbox reconcile`, the `reconcile_outbox` tool),
`run-once` and the monitoring's healing run: it settles stale `sending` rows the same way, then
asks the provider again about every `unknown` row, by its idempotency key: a message the
provider holds is recorded `sent`; one it never got is released to `pending` (sent by the next
pass, with its consent, quiet-hours and cap checks); a provider that cannot be asked now (down,
not configured, no lookup API) leaves the row `unknown` for a later run or a human
(`outbox.release_unknown`, `perfect-catch outbox release`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

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


@dataclass
class ReconcileReport:
    """What one `reconcile` did: rows recorded sent, released to be sent, and left unknown."""

    sent: int = 0
    released: int = 0
    unknown: int = 0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for a summary (`run-once`, the CLI)."""
        text = f"{self.sent} reconciled as sent, {self.released} released, {self.unknown} unknown"
        if self.unknown:
            text += " (the provider could not confirm them: see `perfect-catch outbox status`)"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "released": self.released,
            "unknown": self.unknown,
            "notes": list(self.notes[:20]),
        }


def _release(engine: sa.Engine, claim_id: int, token: Any, provider: str) -> bool:
    with engine.begin() as conn:
        return bool(
            conn.execute(
                sa.text(
                    "update automation.outbox set status = 'pending', due_at = now(),"
                    " claim_token = null, claimed_at = null, updated_at = now(),"
                    " last_error = :why where id = :id and status = 'unknown'"
                    " and claim_token is not distinct from :token"
                ),
                {
                    "id": claim_id,
                    "token": token,
                    "why": f"released by reconciliation: {provider} holds no such message",
                },
            ).rowcount
        )


def reconcile(
    engine: sa.Engine,
    providers: Providers,
    messaging_settings: MessagingSettings,
    *,
    now: datetime,
) -> ReconcileReport:
    """Settle stale `sending` rows and every `unknown` row by the provider's record (see the
    module docstring); returns how many were recorded sent, released, and left unknown."""
    report = ReconcileReport()
    stale = DispatchResult()
    reconcile_stale(engine, providers, messaging_settings, now=now, result=stale)
    report.sent += stale.reconciled
    report.notes.extend(stale.errors)
    last_id = 0
    while True:
        with engine.connect() as conn:
            rows = (
                conn.execute(
                    sa.text(
                        f"{SELECT_ROWS} where status = 'unknown' and id > :after"
                        " order by id limit 200"
                    ),
                    {"after": last_id},
                )
                .mappings()
                .all()
            )
        if not rows:
            break
        last_id = rows[-1]["id"]
        for row in rows:
            claim = claim_of(row, row["claim_token"], row["attempts"])
            try:
                provider = providers.for_channel(claim.channel)
                found = lookup(engine, providers, claim)
            except (ProviderRefusal, ValueError) as exc:
                report.unknown += 1
                report.notes.append(f"outbox row {claim.id}: provider not asked: {exc}")
                continue
            if found is not None:
                if record_sent(engine, claim, found, now=now, reconciled=True):
                    report.sent += 1
                continue
            if _release(engine, claim.id, row["claim_token"], provider.name):
                report.released += 1
                log.info(
                    "outbox row %s (%s) released: never reached the provider", claim.id, claim.key
                )
    return report
