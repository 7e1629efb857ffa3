"""ServiceTitan timestamps: integer ticks of 100 ns since the Unix epoch, shown .NET style.

ST writes instants with seven fractional digits ("2024-03-05T14:22:01.1234567Z"). Keeping them
as integer ticks makes feed order exact and ties deliberate, and formatting cheap.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache

TICKS_PER_SECOND = 10_000_000
TICKS_PER_DAY = 86_400 * TICKS_PER_SECOND
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ticks_of(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * TICKS_PER_SECOND + delta.microseconds * 10


def datetime_of(ticks: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ticks // 10)


@lru_cache(maxsize=65_536)
def _second_prefix(seconds: int) -> str:
    return (_EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")


@lru_cache(maxsize=131_072)
def _day_prefix(day: int) -> str:
    return (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%dT")


def format_ticks(ticks: int) -> str:
    """ "2024-03-05T14:22:01.1234567Z" for `ticks` (hot path: no datetime per call)."""
    seconds, frac = divmod(ticks, TICKS_PER_SECOND)
    day, second_of_day = divmod(seconds, 86_400)
    hour, rest = divmod(second_of_day, 3600)
    minute, second = divmod(rest, 60)
    return f"{_day_prefix(day)}{hour:02d}:{minute:02d}:{second:02d}.{frac:07d}Z"


def format_date(ticks: int) -> str:
    """Midnight of the day of `ticks`, as ST shows date-only values."""
    return _second_prefix(ticks // TICKS_PER_DAY * 86_400) + "Z"


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
