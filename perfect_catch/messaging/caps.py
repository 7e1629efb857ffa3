"""Frequency caps: how many messages one customer may receive per day and per week.

"Per day" is the recipient's calendar day, in the zone stored on the outbox row (midnight to
midnight local time: a customer in Phoenix and one in New York each get their own day); "per
week" is any 7 days. Both count every message handed to a provider (`sending`, `sent`,
`delivered`, `undelivered`, `unknown`), across channels. A message over the daily cap waits for
the recipient's next midnight (quiet hours then hold it until morning), one over the weekly cap
for the moment the oldest counted message leaves the window; none is dropped. Messages
without a customer are capped per recipient address instead.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

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
    tz: ZoneInfo,
) -> tuple[datetime, str] | None:
    """(when the message may go, why) if a cap is reached, else None; `tz` is the recipient's."""
    if customer_id is not None:
        scope = "tenant_id = :tenant and customer_id = :customer"
    else:
        scope = "customer_id is null and channel = :channel and to_address = :address"
    params = {
        "tenant": tenant_id,
        "customer": customer_id,
        "channel": channel,
        "address": address,
        "counted": list(COUNTED),
    }
    if messaging.messaging_cap_per_day > 0:
        today = now.astimezone(tz).date()
        day_start = datetime.combine(today, time(0), tzinfo=tz)
        sent_today = conn.execute(
            sa.text(
                f"select count(*) from automation.outbox where {scope}"
                " and status = any(:counted) and coalesce(sent_at, claimed_at) >= :since"
            ),
            {**params, "since": day_start},
        ).scalar_one()
        if sent_today >= messaging.messaging_cap_per_day:
            tomorrow = datetime.combine(today + timedelta(days=1), time(0), tzinfo=tz)
            return tomorrow, (
                f"frequency cap of {messaging.messaging_cap_per_day} per day reached"
                f" (recipient's day in {tz.key})"
            )
    cap = messaging.messaging_cap_per_week
    if cap > 0:
        week = timedelta(days=7)
        oldest_counted = conn.execute(
            sa.text(
                "select coalesce(sent_at, claimed_at) as at from automation.outbox"
                f" where {scope} and status = any(:counted)"
                " and coalesce(sent_at, claimed_at) > :since"
                " order by coalesce(sent_at, claimed_at) desc offset :skip limit 1"
            ),
            {**params, "since": now - week, "skip": cap - 1},
        ).scalar()
        if oldest_counted is not None:
            return oldest_counted + week, f"frequency cap of {cap} per week reached"
    return None
