"""Quiet hours: when a message may reach a customer, in the customer's own timezone.

A message due in quiet hours is never dropped: the dispatcher moves it to the first allowed
moment (`next_allowed_time`) and sends it then. The timezone is the one the caller recorded on
the message (`metadata.timezone`, e.g. from the service location), else the tenant's
(`MESSAGING_TENANT_TIMEZONES`), else `ST_TIMEZONE`.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from perfect_catch.settings import MessagingSettings, Settings


def customer_timezone(
    settings: Settings,
    messaging: MessagingSettings,
    tenant_id: int,
    metadata: dict[str, Any] | None = None,
) -> ZoneInfo:
    """The timezone quiet hours are measured in for this message."""
    explicit = (metadata or {}).get("timezone")
    if isinstance(explicit, str) and explicit:
        try:
            return ZoneInfo(explicit)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(messaging.messaging_tenant_timezones.get(tenant_id, settings.st_timezone))


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
