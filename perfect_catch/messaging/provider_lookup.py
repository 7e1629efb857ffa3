"""Asking a provider whether it already holds an outbox row's message.

Twilio is asked by listing messages to that number from our sender and matching the body among
ids not yet recorded; SendGrid by the `outbox_key` custom argument (received delivery events
first, then the Email Activity API). Used before a retry and to settle stale claims, so a
message whose answer was lost is recorded rather than sent again.
"""

from __future__ import annotations

import sqlalchemy as sa

from perfect_catch.messaging.claims import Claim
from perfect_catch.messaging.providers import Providers, SendOutcome


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


def lookup(engine: sa.Engine, providers: Providers, claim: Claim) -> SendOutcome | None:
    """The message the provider already holds for this claim, if any."""
    provider = providers.for_channel(claim.channel)
    known = _KnownIds(engine, provider.name)
    with engine.connect() as conn:
        seen = _event_provider_id(conn, provider.name, claim.key)
    if seen and seen not in known:
        return SendOutcome(provider.name, seen, "sent", {"source": "delivery event"})
    return provider.find(claim.message(), known)
