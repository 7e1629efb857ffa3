"""Frequency caps: how many messages one customer may receive per day and per week.

Windows are rolling (any 24 hours, any 7 days) and count every message handed to a provider
(`sending`, `sent`, `delivered`, `undelivered`, `unknown`), across channels. A message over a cap
is deferred to the moment the oldest counted message leaves the window, never dropped. Messages
without a customer are capped per recipient address instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from perfect_catch.settings import MessagingSettings

COUNTED = ("sending", "sent", "delivered", "undelivered", "unknown")


def cap_key(tenant_id: int, customer_id: int | None, channel: str, address: str) -> str:
    """The unit a cap applies to (also the name of the lock serialising its check)."""
    if customer_id is not None:
        return f"customer:{tenant_id}:{customer_id}"
    return f"address:{channel}:{address}"


def lock_cap(conn: sa.Connection, key: str) -> None:
    """Serialise cap checks of one customer across concurrent dispatchers (transaction lock)."""
    conn.execute(sa.text("select pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


def cap_deferral(
    conn: sa.Connection,
    messaging: MessagingSettings,
    *,
    tenant_id: int,
    customer_id: int | None,
    channel: str,
    address: str,
    now: datetime,
) -> tuple[datetime, str] | None:
    """(when the message may go, why) if a cap is reached, else None."""
    if customer_id is not None:
        scope = "tenant_id = :tenant and customer_id = :customer"
    else:
        scope = "customer_id is null and channel = :channel and to_address = :address"
    for cap, window, label in (
        (messaging.messaging_cap_per_day, timedelta(days=1), "day"),
        (messaging.messaging_cap_per_week, timedelta(days=7), "week"),
    ):
        if cap <= 0:
            continue
        oldest_counted = conn.execute(
            sa.text(
                "select coalesce(sent_at, claimed_at) as at from automation.outbox"
                f" where {scope} and status = any(:counted)"
                " and coalesce(sent_at, claimed_at) > :since"
                " order by coalesce(sent_at, claimed_at) desc offset :skip limit 1"
            ),
            {
                "tenant": tenant_id,
                "customer": customer_id,
                "channel": channel,
                "address": address,
                "counted": list(COUNTED),
                "since": now - window,
                "skip": cap - 1,
            },
        ).scalar()
        if oldest_counted is not None:
            return oldest_counted + window, f"frequency cap of {cap} per {label} reached"
    return None
