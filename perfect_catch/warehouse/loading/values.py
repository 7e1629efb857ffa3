"""What a typed value may be: the patterns and checks shared by the fast path, the full checks
and the direct COPY writers, so that all three accept exactly the same values."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?"
)
# The common shape of ST timestamps, on a day every year has (any but February 29th): always a
# valid date, so the full parse (and its datetime construction) can be skipped.
_DAY_FAST = (
    r"(?!0000)\d{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])"
    r"|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
)
TIMESTAMP_FAST = re.compile(
    _DAY_FAST + r"T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,7})?(?:Z|[+-](?:0\d|1[0-4]):[0-5]\d)?"
)
DATE_FAST = re.compile(_DAY_FAST)
# A decimal as ServiceTitan writes money ("1234.50"): PostgreSQL's numeric reads it as written.
DECIMAL_FAST = re.compile(r"-?\d{1,30}(?:\.\d{1,30})?")
_NUMERIC = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,4})?\s*")
_INTEGER = re.compile(r"\s*[+-]?\d+\s*")


class RecordError(ValueError):
    """A record that cannot be loaded; the message names the field and the problem."""


def parse_timestamp(value: str, field: str = "timestamp") -> datetime:
    """Parse an ST timestamp into an aware UTC datetime.

    ST sends .NET timestamps with up to 7 fractional digits, which `datetime.fromisoformat`
    rejects before Python 3.12; a value without an offset is UTC. Digits beyond microseconds are
    truncated. Offsets beyond ±15:59 are refused, as PostgreSQL refuses them.
    """
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        raise RecordError(f"{field}: not an ISO 8601 timestamp: {value[:40]!r}")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz = UTC
    try:
        if offset and offset not in ("Z", "z"):
            sign = -1 if offset[0] == "-" else 1
            digits = offset[1:].replace(":", "")
            hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
            if hours > 15 or minutes > 59:
                raise ValueError(f"UTC offset {offset} out of range")
            tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
        parsed = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            micro,
            tzinfo=tz,
        )
    except ValueError as exc:
        raise RecordError(f"{field}: invalid timestamp {value[:40]!r} ({exc})") from None
    return parsed.astimezone(UTC) if tz is not UTC else parsed


def check_bigint(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return INT64_MIN <= value <= INT64_MAX
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return INT64_MIN <= int(value) <= INT64_MAX
    return False


def check_numeric(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and _NUMERIC.fullmatch(value) is not None


def check_boolean(value: Any) -> bool:
    return isinstance(value, bool)


def check_timestamp(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if TIMESTAMP_FAST.fullmatch(value):
        return True
    try:
        parse_timestamp(value)
    except RecordError:
        return False
    return True


def check_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value[:10])
    except ValueError:
        return False
    return check_timestamp(value) if len(value) > 10 else True


def check_any(value: Any) -> bool:
    return True


#: Per column type, the full check of a value and what the reject reason says was expected.
CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "bigint": (check_bigint, "a 64-bit integer"),
    "numeric": (check_numeric, "a number"),
    "boolean": (check_boolean, "a boolean"),
    "timestamptz": (check_timestamp, "an ISO 8601 timestamp"),
    "date": (check_date, "an ISO 8601 date"),
    "text": (check_any, ""),
    "jsonb": (check_any, ""),
}


def plain_date(value: str) -> Any:
    """A date, or a timestamp, of the usual shape (a match) or None: no full parse needed."""
    return DATE_FAST.fullmatch(value) or TIMESTAMP_FAST.fullmatch(value)


def dig(record: dict[str, Any], path: tuple[str, ...]) -> Any:
    """The value at `path` in `record`, as `->` walks it: a step into anything but an object
    gives None."""
    value: Any = record
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value
