"""ServiceTitan timestamps: integer ticks of 100 ns since the Unix epoch, shown .NET style.

ST writes instants with seven fractional digits ("2024-03-05T14:22:01.1234567Z"). Keeping them
as integer ticks makes feed order exact and ties deliberate, and formatting cheap.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

TICKS_PER_SECOND = 10_000_000
TICKS_PER_HOUR = 3600 * TICKS_PER_SECOND
TICKS_PER_DAY = 86_400 * TICKS_PER_SECOND
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ticks_of(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * TICKS_PER_SECOND + delta.microseconds * 10


def datetime_of(ticks: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ticks // 10)


_DAY_PREFIX: dict[int, str] = {}
# "HH:MM:" per minute of a day and "SS." per second: formatting is lookups plus one int format.
_HOUR_MINUTE = [f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]
_SECOND = [f"{s:02d}." for s in range(60)]


def _day_prefix(day: int) -> str:
    prefix = _DAY_PREFIX.get(day)
    if prefix is None:
        prefix = (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%dT")
        if len(_DAY_PREFIX) < 200_000:
            _DAY_PREFIX[day] = prefix
    return prefix


def format_ticks(ticks: int) -> str:
    """ "2024-03-05T14:22:01.1234567Z" for `ticks` (hot path: no datetime per call)."""
    seconds, frac = divmod(ticks, TICKS_PER_SECOND)
    day, second_of_day = divmod(seconds, 86_400)
    minute, second = divmod(second_of_day, 60)
    prefix = _DAY_PREFIX.get(day) or _day_prefix(day)
    return f"{prefix}{_HOUR_MINUTE[minute]}{_SECOND[second]}{frac:07d}Z"


def format_date(ticks: int) -> str:
    """Midnight of the day of `ticks`, as ST shows date-only values."""
    day = ticks // TICKS_PER_DAY
    return f"{_DAY_PREFIX.get(day) or _day_prefix(day)}00:00:00Z"


_INSTANT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?"
    r"(Z|[+-]\d{2}:?\d{2})?$"
)


def parse_instant(text: str) -> int:
    """Ticks of an ISO date or date-time (up to 7 fractional digits); ValueError otherwise."""
    match = _INSTANT.match(text.strip())
    if not match:
        raise ValueError(f"not a date or date-time: {text!r}")
    year, month, day, hour, minute, second, frac, zone = match.groups()
    moment = datetime(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        tzinfo=UTC,
    )
    ticks = ticks_of(moment) + int((frac or "0").ljust(7, "0"))
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        ticks -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60) * TICKS_PER_SECOND
    return ticks
