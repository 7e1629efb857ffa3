"""Quiet hours: when a message may reach a customer, in the recipient's own time zone.

A message due in quiet hours is never dropped: the dispatcher moves it to the first allowed
moment (`next_allowed_time`) and sends it then. The zone is the one stored on the outbox row
when it was queued (`recipient_zone`: workflow, location, phone, tenant); a row queued before
zones were stored falls back to its metadata `timezone`, then the tenant's
(`MESSAGING_TENANT_TIMEZONES`), then `ST_TIMEZONE`.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from perfect_catch.messaging.recipient_zone import tenant_timezone
from perfect_catch.settings import MessagingSettings, Settings


def customer_timezone(
    settings: Settings,
    messaging: MessagingSettings,
    tenant_id: int,
    metadata: dict[str, Any] | None = None,
    stored: str | None = None,
) -> ZoneInfo:
    """The zone quiet hours and daily caps are measured in for this message."""
    for explicit in (stored, (metadata or {}).get("timezone")):
        if isinstance(explicit, str) and explicit:
            try:
                return ZoneInfo(explicit)
            except (ZoneInfoNotFoundError, ValueError):
                pass
    return ZoneInfo(tenant_timezone(settings, messaging, tenant_id))


def _in_quiet(local: time, start: time, end: time) -> bool:
    if start == end:
        return False
    if start > end:
        return local >= start or local < end
    return start <= local < end


def next_allowed_time(now: datetime, tz: ZoneInfo, start: time, end: time) -> datetime | None:
    """None when `now` is outside quiet hours [start, end) local time, else the moment they end.

    `start > end` is the usual overnight window (21:00 -> 08:00). The answer is built from the
    local wall-clock date, so a DST change during the night still yields 08:00 local.
    """
    local = now.astimezone(tz)
    if not _in_quiet(local.timetz().replace(tzinfo=None), start, end):
        return None
    day = local.date()
    if start > end and local.time() >= start:
        day = day + timedelta(days=1)
    resume = datetime.combine(day, end, tzinfo=tz)
    if resume <= now:
        resume = datetime.combine(day + timedelta(days=1), end, tzinfo=tz)
    return resume
