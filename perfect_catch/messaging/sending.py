"""Sending one claimed row and recording the provider's answer.

A row that was attempted before (a retry) is first looked up at the provider, so an attempt
whose answer was lost (timeout, 5xx after acceptance) is not sent twice. (SendGrid's lookup
needs the Email Activity API; without it a retry relies on the events already received.)
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from perfect_catch.messaging.answers import record_refusal, record_sent
from perfect_catch.messaging.claims import Claim
from perfect_catch.messaging.dispatch_result import DispatchResult
from perfect_catch.messaging.provider_lookup import lookup
from perfect_catch.messaging.providers import ProviderRefusal, Providers, SendOutcome
from perfect_catch.settings import MessagingSettings


def _lookup_before_retry(
    engine: sa.Engine, providers: Providers, claim: Claim, result: DispatchResult
) -> SendOutcome | None:
    """The earlier attempt's message if the provider holds it.

    A provider that cannot be asked right now (transient) postpones the retry; one that does
    not offer the lookup at all (e.g. a SendGrid account without the Email Activity API) lets
    the retry go ahead on the evidence of received events alone.
    """
    try:
        return lookup(engine, providers, claim)
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
        record_refusal(
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
                if record_sent(engine, claim, found, now=now, reconciled=True):
                    result.add("reconciled")
                return
        outcome = provider.send(claim.message())
    except ProviderRefusal as refusal:
        record_refusal(engine, messaging, claim, refusal, now=now, result=result)
        return
    if record_sent(engine, claim, outcome, now=now, reconciled=False):
        result.add("sent")
