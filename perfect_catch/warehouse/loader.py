"""Bulk upsert of API records into the raw tables.

The path is: validate each record in Python (so one bad record is rejected with a reason instead
of failing a whole statement), COPY the valid ones into a temporary table, then one
`INSERT ... SELECT ... ON CONFLICT DO UPDATE` that derives the typed columns in SQL. The update
only happens when the incoming version is not older than the stored one and actually differs,
so replays (resumed syncs, `includeRecentChanges` repeats, full refreshes) write nothing and an
older version never overwrites a newer one.

Validation has two speeds. The fast path (`prepare_batch`) accepts a record when every typed
value already has its JSON type (a number, a boolean, a timestamp of the usual shape) and leaves
what the SQL casts check exactly as well as Python would (the 64-bit range of integers) to
PostgreSQL; any record that is not plainly valid goes through the full per-record checks. If the
set-based statement still fails with a data error, it is rolled back to a savepoint and the page
is loaded again after the full checks of every record (`prepare`), which reject the culprit with
a reason naming its field. The fast path is pure Python without a connection, so the sync engine
runs it on its fetch thread while the previous page is in PostgreSQL.

The caller owns the transaction: the sync engine stores its continuation token in the same one.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from typing import Any

import orjson
import psycopg
from psycopg import pq

from perfect_catch.warehouse.catalog import ChildSpec, Column, EntitySpec

_STAGE = "pc_stage"
_SAVEPOINT = "pc_load"
SEEN_TABLE = "pc_seen_ids"
_COPY_CHUNK = 4 * 1024 * 1024
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_MAX_REJECT_RAW = 1_000_000
_OPEN = (pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR)
_CREATE_STAGE = (
    f"create temp table {_STAGE} (id bigint, modified_on timestamptz, raw jsonb) on commit drop"
)

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
_TIMESTAMP_FAST = re.compile(
    _DAY_FAST + r"T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,7})?(?:Z|[+-](?:0\d|1[0-4]):[0-5]\d)?"
)
_DATE_FAST = re.compile(_DAY_FAST)
# A decimal as ServiceTitan writes money ("1234.50"): PostgreSQL's numeric reads it as written.
_DECIMAL_FAST = re.compile(r"-?\d{1,30}(?:\.\d{1,30})?")
_NUMERIC = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,4})?\s*")
_INTEGER = re.compile(r"\s*[+-]?\d+\s*")


class RecordError(ValueError):
    """A record that cannot be loaded; the message names the field and the problem."""


@dataclass(frozen=True)
class LoadResult:
    """What one load did. `unchanged` counts valid records that wrote nothing (same or older)."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    max_modified_on: datetime | None = None

    @property
    def records(self) -> int:
        return self.inserted + self.updated + self.unchanged + self.rejected

    def __add__(self, other: LoadResult) -> LoadResult:
        newest = [m for m in (self.max_modified_on, other.max_modified_on) if m is not None]
        return LoadResult(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.rejected + other.rejected,
            max(newest) if newest else None,
        )


@dataclass(frozen=True)
class Reject:
    """A record that was not loaded, as written to `public.sync_rejects`."""

    record_id: str | None
    reason: str
    raw: str


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


def _check_bigint(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return _INT64_MIN <= value <= _INT64_MAX
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return _INT64_MIN <= int(value) <= _INT64_MAX
    return False


def _check_numeric(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and _NUMERIC.fullmatch(value) is not None


def _check_boolean(value: Any) -> bool:
    return isinstance(value, bool)


def _check_timestamp(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if _TIMESTAMP_FAST.fullmatch(value):
        return True
    try:
        parse_timestamp(value)
    except RecordError:
        return False
    return True


def _check_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value[:10])
    except ValueError:
        return False
    return _check_timestamp(value) if len(value) > 10 else True


def _check_any(value: Any) -> bool:
    return True


_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "bigint": (_check_bigint, "a 64-bit integer"),
    "numeric": (_check_numeric, "a number"),
    "boolean": (_check_boolean, "a boolean"),
    "timestamptz": (_check_timestamp, "an ISO 8601 timestamp"),
    "date": (_check_date, "an ISO 8601 date"),
    "text": (_check_any, ""),
    "jsonb": (_check_any, ""),
}


def _dig(record: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = record
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


_Check = tuple[str, tuple[str, ...] | None, Callable[[Any], bool], str, str]


@cache
def _column_checks(columns: tuple[Column, ...]) -> tuple[_Check, ...]:
    """The checks of the typed columns that can fail a cast (text and jsonb cannot)."""
    checks: list[_Check] = []
    for column in columns:
        check, expected = _CHECKS[column.type]
        if check is not _check_any:
            path = None if len(column.path) == 1 else column.path
            checks.append((column.path[0], path, check, expected, ".".join(column.path)))
    return tuple(checks)


def _check_columns(record: dict[str, Any], checks: tuple[_Check, ...], prefix: str) -> None:
    for key, path, check, expected, label in checks:
        value = record.get(key) if path is None else _dig(record, path)
        if value is not None and not check(value):
            shown = orjson.dumps(value)[:60].decode("utf-8", "replace")
            raise RecordError(f"{prefix}{label}: expected {expected}, got {shown}")


def _record_id(record: dict[str, Any], prefix: str = "") -> int:
    rid = record.get("id")
    if rid is None:
        raise RecordError(f"{prefix}id: missing")
    if isinstance(rid, bool) or not isinstance(rid, int):
        raise RecordError(f"{prefix}id: expected an integer, got {type(rid).__name__}")
    if not _INT64_MIN <= rid <= _INT64_MAX:
        raise RecordError(f"{prefix}id: out of the 64-bit range")
    return rid


def _modified_on(record: dict[str, Any], fields: tuple[str, ...]) -> str:
    """The record's modification time as text PostgreSQL reads the same way (UTC if no offset).

    The usual shape is checked by one regular expression and passed through untouched; anything
    else is parsed and rewritten in a canonical form.
    """
    for name in fields:
        value = record.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise RecordError(f"{name}: expected an ISO 8601 timestamp, got {type(value).__name__}")
        if _TIMESTAMP_FAST.fullmatch(value):
            return value
        return parse_timestamp(value, name).isoformat()
    raise RecordError(f"{fields[0]}: missing")


def _nul_path(value: Any, path: str = "") -> str | None:
    """Where a NUL character hides in a record (jsonb cannot store one), or None."""
    if isinstance(value, str):
        return path or "(value)" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return here
            found = _nul_path(item, here)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_path(item, f"{path}[{index}]")
            if found:
                return found
    return None


def _check_children(record: dict[str, Any], children: tuple[ChildSpec, ...]) -> None:
    for child in children:
        items = record.get(child.array_field)
        if items is None:
            continue
        if not isinstance(items, list):
            raise RecordError(f"{child.array_field}: expected an array")
        seen: set[int] = set()
        for index, item in enumerate(items):
            prefix = f"{child.array_field}[{index}]."
            if not isinstance(item, dict):
                raise RecordError(f"{child.array_field}[{index}]: expected an object")
            item_id = _record_id(item, prefix)
            if item_id in seen:
                raise RecordError(f"{prefix}id: duplicate item id {item_id}")
            seen.add(item_id)
            modified = item.get("modifiedOn")
            if modified is not None and not _check_timestamp(modified):
                raise RecordError(f"{prefix}modifiedOn: expected an ISO 8601 timestamp")
            _check_columns(item, _column_checks(child.columns), prefix)


def _reject_raw(record: Any) -> str:
    try:
        text = orjson.dumps(record).decode()
    except TypeError:
        text = repr(record)
    return text.replace("\x00", "\\u0000")[:_MAX_REJECT_RAW]


class _Rejected(Exception):
    """A record the full checks refused, with the id it had (if usable) for the seen-ids table."""

    def __init__(self, rid: int | None, reject: Reject) -> None:
        super().__init__(reject.reason)
        self.rid = rid
        self.reject = reject


def _check_record(
    record: Any,
    checks: tuple[_Check, ...],
    modified_fields: tuple[str, ...],
    children: tuple[ChildSpec, ...],
) -> tuple[int, str, bytes]:
    """The full checks of one record: its id, modifiedOn text and body, or `_Rejected`."""
    rid: int | None = None
    try:
        if type(record) is not dict:
            raise RecordError(f"record: expected a JSON object, got {type(record).__name__}")
        candidate = record.get("id")
        fast = type(candidate) is int and _INT64_MIN <= candidate <= _INT64_MAX
        rid = candidate if fast else _record_id(record)
        modified = _modified_on(record, modified_fields)
        _check_columns(record, checks, "")
        if children:
            _check_children(record, children)
        try:
            body = orjson.dumps(record)
        except TypeError as exc:
            raise RecordError(f"record: not serialisable as JSON ({exc})") from None
        if b"\\u0000" in body:
            where = _nul_path(record)
            if where is not None:
                raise RecordError(f"{where}: contains a NUL (\\u0000) character")
    except RecordError as exc:
        reject = Reject(None if rid is None else str(rid), str(exc), _reject_raw(record))
        raise _Rejected(rid, reject) from None
    return rid, modified, body


_FastCheck = tuple[str, tuple[str, ...] | None, tuple[type, ...], Callable[[str], Any] | None]


# The Python types other than str a typed value may have for the fast path to take it without a
# closer look, and the pattern a str must match (none: a str always gets the full checks). A JSON
# number always casts to numeric, a JSON integer to bigint unless it is out of range (which the
# cast refuses, sending the page to the slow path). Strings in number or boolean columns, which
# PostgreSQL reads more loosely than the checks here do (hex, "NaN", "yes"), get the full checks,
# except plain decimals in numeric columns (money, which ServiceTitan sends as "1234.50").
def _plain_date(value: str) -> Any:
    return _DATE_FAST.fullmatch(value) or _TIMESTAMP_FAST.fullmatch(value)


_FAST_TYPES: dict[str, tuple[tuple[type, ...], Callable[[str], Any] | None]] = {
    "bigint": ((int,), None),
    "numeric": ((int, float), _DECIMAL_FAST.fullmatch),
    "boolean": ((bool,), None),
    "timestamptz": ((), _TIMESTAMP_FAST.fullmatch),
    "date": ((), _plain_date),
}


@cache
def _fast_checks(columns: tuple[Column, ...]) -> tuple[_FastCheck, ...]:
    """The fast-path checks of the typed columns that can fail a cast (text and jsonb cannot)."""
    checks: list[_FastCheck] = []
    for column in columns:
        if column.type in ("text", "jsonb"):
            continue
        types, pattern = _FAST_TYPES[column.type]
        path = None if len(column.path) == 1 else column.path
        checks.append((column.path[0], path, types, pattern))
    return tuple(checks)


def _plainly_valid(record: dict[str, Any], checks: tuple[_FastCheck, ...]) -> bool:
    for key, path, types, pattern in checks:
        value = record.get(key) if path is None else _dig(record, path)
        if value is None:
            continue
        if value.__class__ is str:
            if pattern is None or pattern(value) is None:
                return False
        elif value.__class__ not in types:
            return False
    return True


def _children_plainly_valid(record: dict[str, Any], children: tuple[ChildSpec, ...]) -> bool:
    """The fast path's `_check_children`: True when every item is plainly valid; otherwise the
    full checks run and name what is wrong."""
    for child in children:
        items = record.get(child.array_field)
        if items is None:
            continue
        if items.__class__ is not list:
            return False
        checks = _fast_checks(child.columns)
        seen: set[int] = set()
        for item in items:
            if item.__class__ is not dict:
                return False
            item_id = item.get("id")
            if item_id.__class__ is not int or not _INT64_MIN <= item_id <= _INT64_MAX:
                return False
            if item_id in seen:
                return False
            seen.add(item_id)
            modified = item.get("modifiedOn")
            if modified is not None and (
                modified.__class__ is not str or _TIMESTAMP_FAST.fullmatch(modified) is None
            ):
                return False
            if not _plainly_valid(item, checks):
                return False
    return True


@dataclass(frozen=True)
class PreparedBatch:
    """Records validated and turned into COPY lines, ready for `load_records`.

    Iterating it yields the original records, which the slow path reads again if PostgreSQL
    refuses what the fast path let through. `checked` says every record had the full checks.
    """

    records: Sequence[Any]
    rows: dict[int, tuple[str, bytes]]
    rejects: list[Reject]
    rejected_ids: list[int]
    checked: bool
    #: The newest modifiedOn of the rows, computed with `direct` (the upsert reports it itself).
    newest: datetime | None = None
    #: Rows of the target table for a direct COPY (see `load_records`), or None when some
    #: record of the page cannot take that path. Each is `\t<id>\t<typed columns>\t<raw>\t
    #: <modifiedOn>`: the tenant id before and `\t<synced_at>\n` after are added at load time.
    direct: list[bytes] | None = None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)


def _add_row(
    rows: dict[int, tuple[str, bytes]], rid: int, modified: str, body: bytes
) -> bytes | None:
    """Keep the newest version of `rid` (the later one on a tie, as the feed orders them).

    Returns the body as COPY text (backslashes doubled) if this version was kept, else None."""
    previous = rows.get(rid)
    if previous is not None and parse_timestamp(previous[0]) > parse_timestamp(modified):
        return None
    if b"\\" in body:
        body = body.replace(b"\\", b"\\\\")
    rows[rid] = (modified, b"%d\t%s\t%s\n" % (rid, modified.encode(), body))
    return body


# --- direct COPY rows --------------------------------------------------------------------------
# An initial load COPYs pages straight into the target table (see `load_records`), its typed
# columns written from Python exactly as the SQL expression of `Column.expr` derives them from
# the raw record. That takes one function per entity, compiled from the entity's columns: a
# loop calling a check and a formatter per column cost more than the rest of the row.

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> bytes:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.translate(_COPY_ESCAPES)
    return value.encode()


# Per column type, the (condition, COPY text) branches for a value `v` that is not None. They
# admit only values the full checks accept (most of them plainly valid, see `_FAST_TYPES`),
# except integers out of the 64-bit range, left to PostgreSQL as on the fast path: the COPY
# fails with a data error and the page takes the upsert path. A value that meets no branch has
# no direct COPY text (a number in a text column, say). Timestamps, dates and decimals that
# match their fast patterns hold nothing COPY escapes.
_COPY_BRANCHES: dict[str, tuple[tuple[str, str], ...]] = {
    "text": (("v.__class__ is str", "text(v)"),),
    "bigint": (("v.__class__ is int", "b'%d' % v"),),
    "numeric": (
        ("v.__class__ is int", "b'%d' % v"),
        # Finite floats only; orjson writes the digits the raw record has, which `->>` gives.
        ("v.__class__ is float and v - v == 0.0", "dumps(v)"),
        ("v.__class__ is str and decimal(v) is not None", "v.encode()"),
    ),
    "boolean": (("v is True", "b't'"), ("v is False", "b'f'")),
    # Read by the same input function as the cast of the text, in the same session time zone;
    # the less usual shapes (February 29th, say) after the full check of the value.
    "timestamptz": (
        ("v.__class__ is str and timestamp(v) is not None", "v.encode()"),
        ("v.__class__ is str and check_timestamp(v)", "text(v)"),
    ),
    "date": (
        ("v.__class__ is str and plain_date(v) is not None", "v.encode()"),
        ("v.__class__ is str and check_date(v)", "text(v)"),
    ),
}
_COPY_NAMES = {
    "text": _copy_text,
    "dumps": orjson.dumps,
    "decimal": _DECIMAL_FAST.fullmatch,
    "timestamp": _TIMESTAMP_FAST.fullmatch,
    "plain_date": _plain_date,
    "check_timestamp": _check_timestamp,
    "check_date": _check_date,
    "NULL": b"\\N",
}


@cache
def _typed_fields(spec: EntitySpec) -> Callable[[dict[str, Any]], bytes | None] | None:
    """The function that writes a record's typed columns for a direct COPY (each preceded by a
    tab) or answers None when some value has no direct COPY text; None if the entity cannot be
    loaded that way at all (child rows to derive, a jsonb column, several modifiedOn fields)."""
    if spec.children or len(spec.modified_fields) != 1:
        return None
    if any(column.type not in _COPY_BRANCHES for column in spec.columns):
        return None
    lines = ["def typed_fields(record):", "    get = record.get"]
    for index, column in enumerate(spec.columns):
        first, *rest = column.path
        lines.append(f"    v = get({first!r})")
        for key in rest:  # as `_dig`: a step into anything but an object gives null
            lines.append(f"    v = v.get({key!r}) if isinstance(v, dict) else None")
        lines.append(f"    if v is None: c{index} = NULL")
        for condition, text in _COPY_BRANCHES[column.type]:
            lines.append(f"    elif {condition}: c{index} = {text}")
        lines.append("    else: return None")
    fields = "".join(f", c{index}" for index in range(len(spec.columns)))
    lines.append(f"    return b'\\t'.join((b''{fields}))")
    namespace = dict(_COPY_NAMES)
    exec(compile("\n".join(lines), f"<direct COPY fields of {spec.name}>", "exec"), namespace)
    return namespace["typed_fields"]  # type: ignore[no-any-return]


def _prepare(
    spec: EntitySpec, records: Sequence[Any], fast: bool, direct: bool = False
) -> PreparedBatch:
    rows: dict[int, tuple[str, bytes]] = {}
    rejects: list[Reject] = []
    rejected_ids: list[int] = []
    # With `direct`, the typed columns of a direct COPY row; the function that writes them also
    # tells a plainly valid record (None: not plainly valid, or no direct COPY text).
    typed_fields = _typed_fields(spec) if direct and fast else None
    lines: dict[int, bytes] | None = {} if typed_fields is not None else None
    checks = _column_checks(spec.columns)
    modified_fields = spec.modified_fields
    children = spec.children
    fast_checks = _fast_checks(spec.columns) if fast else None
    match_timestamp = _TIMESTAMP_FAST.fullmatch
    dumps = orjson.dumps
    for record in records:
        body: bytes | None = None
        typed: bytes | None = None
        if fast_checks is not None and type(record) is dict:
            rid = record.get("id")
            for name in modified_fields:  # the first non-null one is the record's modifiedOn
                modified = record.get(name)
                if modified is not None:
                    break
            if (
                type(rid) is int
                and _INT64_MIN <= rid <= _INT64_MAX
                and modified.__class__ is str
                and match_timestamp(modified) is not None
                and (
                    (typed_fields is not None and (typed := typed_fields(record)) is not None)
                    or _plainly_valid(record, fast_checks)
                )
            ):
                try:
                    if not children or _children_plainly_valid(record, children):
                        body = dumps(record)
                except TypeError:
                    body = None
                if body is not None and b"\\u0000" in body:
                    body = None  # the full checks say why
        if body is None:
            try:
                rid, modified, body = _check_record(record, checks, modified_fields, children)
            except _Rejected as rejected:
                rejects.append(rejected.reject)
                if rejected.rid is not None:
                    rejected_ids.append(rejected.rid)
                continue
        escaped = _add_row(rows, rid, modified, body)
        if escaped is not None and lines is not None:
            if typed is None:
                typed = typed_fields(record)  # type: ignore[misc]
            if typed is None:
                lines = None
            else:
                lines[rid] = b"\t%d%s\t%s\t%s" % (rid, typed, escaped, modified.encode())
    if lines is None or not lines:
        return PreparedBatch(records, rows, rejects, rejected_ids, checked=fast_checks is None)
    return PreparedBatch(
        records,
        rows,
        rejects,
        rejected_ids,
        checked=fast_checks is None,
        newest=_newest([modified for modified, _ in rows.values()]),
        direct=list(lines.values()),
    )


def _newest(stamps: list[str]) -> datetime:
    """The latest of timestamps that matched `_TIMESTAMP_FAST`. When all are in UTC ('Z') with
    as many fraction digits, text order is time order: one parse instead of one each."""
    lengths = set(map(len, stamps))
    if len(lengths) == 1 and {stamp[-1] for stamp in stamps} == {"Z"}:
        return parse_timestamp(max(stamps))
    return max(map(parse_timestamp, stamps))


def prepare_batch(
    spec: EntitySpec, records: Iterable[Any], *, direct: bool = False
) -> PreparedBatch:
    """Validate records on the fast path (see the module docstring) and build their COPY lines.

    With `direct`, also build the rows of a direct COPY into the target table when every record
    of the page is plainly valid and the entity allows it (see `load_records`). Needs no
    connection, so it can run on another thread than the load.
    """
    return _prepare(
        spec, records if isinstance(records, list) else list(records), fast=True, direct=direct
    )


def prepare(
    spec: EntitySpec, records: Iterable[Any]
) -> tuple[dict[int, tuple[str, bytes]], list[Reject], list[int]]:
    """Validate records with the full checks and build their COPY lines (text format), newest
    version per id.

    Returns (modifiedOn, COPY line) by id, the rejects, and the ids of rejected records that had
    a usable id (a full refresh must not take those for deleted at the source).
    """
    batch = _prepare(spec, list(records), fast=False)
    return batch.rows, batch.rejects, batch.rejected_ids


@cache
def upsert_sql(spec: EntitySpec) -> str:
    """The INSERT ... ON CONFLICT statement for `spec`, reading the stage table."""
    names = [c.name for c in spec.columns]
    target_cols = ", ".join(["tenant_id", "id", *names, "raw", "modified_on", "synced_at"])
    exprs = ", ".join(c.expr("s.raw") for c in spec.columns)
    select_list = ", ".join(
        part for part in ("%(tenant_id)s, s.id", exprs, "s.raw, s.modified_on, now()") if part
    )
    sets = ", ".join(
        f"{name} = excluded.{name}" for name in [*names, "raw", "modified_on", "synced_at"]
    )
    # One round trip: the counts, the newest modifiedOn staged, and (only when child rows must
    # follow) the ids of the rows written.
    written_ids = "array_agg(w.id)" if spec.children else "null::bigint[]"
    returned = "t.id, (t.xmax = 0) as inserted" if spec.children else "(t.xmax = 0) as inserted"
    return (
        f"with w as (insert into {spec.qualified} as t ({target_cols}) "
        f"select {select_list} from pg_temp.{_STAGE} s "
        f"on conflict (tenant_id, id) do update set {sets}, deleted_at = null "
        "where t.modified_on <= excluded.modified_on "
        "and (t.raw is distinct from excluded.raw or t.deleted_at is not null) "
        f"returning {returned}) "
        "select count(*) filter (where w.inserted), count(*), "
        f"(select max(modified_on) from pg_temp.{_STAGE}), {written_ids} from w"
    )


@cache
def child_sql(child: ChildSpec) -> tuple[str, str]:
    """Statements that replace the child rows of the given parent ids from the stage table."""
    names = [c.name for c in child.columns]
    target_cols = ", ".join(
        ["tenant_id", "id", child.parent_column, *names, "raw", "modified_on", "synced_at"]
    )
    exprs = "".join(f", {c.expr('e.value')}" for c in child.columns)
    delete = (
        f"delete from {child.qualified} "
        f"where tenant_id = %(tenant_id)s and {child.parent_column} = any(%(parents)s)"
    )
    sets = ", ".join(
        f"{name} = excluded.{name}"
        for name in [child.parent_column, *names, "raw", "modified_on", "synced_at"]
    )
    insert = (
        f"insert into {child.qualified} as t ({target_cols}) "
        f"select distinct on ((e.value ->> 'id')::bigint) "
        f"%(tenant_id)s, (e.value ->> 'id')::bigint, s.id{exprs}, e.value, "
        "coalesce((e.value ->> 'modifiedOn')::timestamptz, s.modified_on), now() "
        f"from pg_temp.{_STAGE} s "
        f"cross join lateral jsonb_array_elements("
        f"case when jsonb_typeof(s.raw -> '{child.array_field}') = 'array' "
        f"then s.raw -> '{child.array_field}' else '[]'::jsonb end) as e(value) "
        "where s.id = any(%(parents)s) "
        "order by (e.value ->> 'id')::bigint, s.modified_on desc "
        f"on conflict (tenant_id, id) do update set {sets}, deleted_at = null"
    )
    return delete, insert


def ensure_seen_table(conn: psycopg.Connection) -> None:
    """Create (empty) the session's table of ids seen by a full refresh."""
    conn.execute(f"create temp table if not exists {SEEN_TABLE} (id bigint primary key)")
    conn.execute(f"truncate pg_temp.{SEEN_TABLE}")


def write_rejects(
    conn: psycopg.Connection,
    spec: EntitySpec,
    tenant_id: int,
    rejects: Sequence[Reject],
    run_id: str | None,
) -> None:
    """Record rejects in `public.sync_rejects` (in the caller's transaction)."""
    if not rejects:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "insert into public.sync_rejects "
            "(source, tenant_id, entity, record_id, reason, raw, run_id) "
            "values (%s, %s, %s, %s, %s, %s, %s)",
            [
                (spec.source, str(tenant_id), spec.name, r.record_id, r.reason, r.raw, run_id)
                for r in rejects
            ],
        )


def load_records(
    conn: psycopg.Connection,
    spec: EntitySpec,
    tenant_id: int,
    records: Iterable[Any],
    *,
    run_id: str | None = None,
    track_seen: bool = False,
    direct: bool = False,
    while_copying: Callable[[], None] | None = None,
) -> LoadResult:
    """Upsert `records` of `spec` for `tenant_id` in the caller's open transaction.

    Invalid records go to `public.sync_rejects`; the rest load. `records` may be a
    `PreparedBatch` (from `prepare_batch`, run elsewhere beforehand). The transaction's time zone
    is set to UTC (`SET LOCAL`), the zone ST means when a timestamp has no offset. With
    `track_seen`, every id of this batch (rejected ones included) is added to the session's
    seen-ids table that a full refresh uses to find what the source no longer returns (see
    `ensure_seen_table`).

    `direct` is for an initial load, when the tenant had no rows in the target table as the
    caller began: then a page whose records are all plainly valid (the batch was prepared with
    `direct=True`) is COPYed straight into the target table, typed columns written from Python,
    inside a savepoint. Any row already there (a record the feed repeats) makes the COPY fail
    with a unique violation, and a value PostgreSQL refuses with a data error: either way the
    page is rolled back to the savepoint and loaded by the upsert path, so the outcome is the
    same as without `direct`. Every row a successful COPY writes is new: all are `inserted`.

    `while_copying`, if given, is called once the rows of a direct COPY are sent, while
    PostgreSQL takes them in and this thread would only wait (the sync engine frees the previous
    page then).
    """
    if conn.autocommit and conn.info.transaction_status == pq.TransactionStatus.IDLE:
        raise ValueError("load_records needs an open transaction (use conn.transaction())")
    batch = (
        records
        if isinstance(records, PreparedBatch)
        else prepare_batch(spec, records, direct=direct)
    )
    counts: tuple[int, int, datetime | None] = (0, 0, None)
    copied = (
        direct
        and batch.direct is not None
        and _copy_direct(conn, spec, tenant_id, batch, while_copying)
    )
    if copied:
        counts = (len(batch.rows), 0, batch.newest)
        if track_seen:
            conn.execute(
                f"insert into pg_temp.{SEEN_TABLE} select unnest(%s::bigint[]) "
                "on conflict do nothing",
                (list(batch.rows),),
            )
    elif batch.rows:
        # Statements without parameters share a round trip.
        conn.execute(f"set local time zone 'UTC'; savepoint {_SAVEPOINT}; {_CREATE_STAGE}")
        try:
            try:
                counts = _upsert(conn, spec, tenant_id, batch.rows, track_seen)
            except psycopg.DataError:
                # A value the fast path passed on that PostgreSQL refuses (an integer out of
                # range, say): take the page again with every record fully checked, which
                # rejects it.
                if batch.checked:
                    raise
                conn.execute(f"rollback to savepoint {_SAVEPOINT}; {_CREATE_STAGE}")
                batch = _prepare(spec, batch.records, fast=False)
                if batch.rows:
                    counts = _upsert(conn, spec, tenant_id, batch.rows, track_seen)
        except BaseException:
            # Leave the caller's transaction as it was before this call (no stage table), where
            # the server still allows it.
            if not conn.broken and conn.info.transaction_status in _OPEN:
                conn.execute(f"rollback to savepoint {_SAVEPOINT}")
            raise
        conn.execute(f"drop table pg_temp.{_STAGE}; release savepoint {_SAVEPOINT}")
    write_rejects(conn, spec, tenant_id, batch.rejects, run_id)
    if track_seen and batch.rejected_ids:
        conn.execute(
            f"insert into pg_temp.{SEEN_TABLE} select unnest(%s::bigint[]) on conflict do nothing",
            (batch.rejected_ids,),
        )
    inserted, updated, newest = counts
    return LoadResult(
        inserted=inserted,
        updated=updated,
        unchanged=len(batch.rows) - inserted - updated,
        rejected=len(batch.rejects),
        max_modified_on=newest,
    )


#: Bytes of COPY data the kernel may hold for PostgreSQL on a Unix-socket connection: a whole
#: page of rows (3-5 MB), asked for, capped by the kernel at `net.core.wmem_max`.
COPY_SEND_BUFFER = 8 * 1024 * 1024


def widen_copy_buffer(conn: psycopg.Connection) -> int:
    """Let the kernel hold a page of COPY data on `conn`'s socket; returns its send buffer size.

    libpq hands COPY data to the socket and the loading thread waits until it is written. The
    default buffer of a Unix socket (`net.core.wmem_default`, 208 KiB) holds a few hundred rows,
    so PostgreSQL ran dry whenever that thread waited for the GIL (another thread decoding a page
    holds it for a while): on the large tenant's customers, PostgreSQL sat idle for a good part
    of the time spent writing COPY data (docs/benchmarks.md). Only Unix sockets are widened: on
    TCP a fixed size would switch off the kernel's own tuning of the buffer, which grows it as
    needed.
    """
    with socket.socket(fileno=os.dup(conn.pgconn.socket)) as sock:
        size = sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        if sock.family == socket.AF_UNIX and size < COPY_SEND_BUFFER:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, COPY_SEND_BUFFER)
            size = sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
    return size


@cache
def _direct_copy_sql(spec: EntitySpec) -> str:
    names = ", ".join(
        ["tenant_id", "id", *(c.name for c in spec.columns), "raw", "modified_on", "synced_at"]
    )
    return f"copy {spec.qualified} ({names}) from stdin"


def _copy_direct(
    conn: psycopg.Connection,
    spec: EntitySpec,
    tenant_id: int,
    batch: PreparedBatch,
    while_copying: Callable[[], None] | None,
) -> bool:
    """COPY the batch's direct rows into the target table in a savepoint; False (and nothing
    written) if PostgreSQL refused them, a row already there or a value it would not take."""
    assert batch.direct is not None
    cur = conn.execute(f"set local time zone 'UTC'; savepoint {_SAVEPOINT}; select now()::text")
    while cur.description is None and cur.nextset():
        pass
    row = cur.fetchone()
    assert row is not None
    # synced_at is the transaction's start, as now() gives the upsert.
    end = b"\t%s\n" % row[0].encode()
    try:
        with conn.cursor() as copy_cursor, copy_cursor.copy(_direct_copy_sql(spec)) as copy:
            copy.write(b"%d" % tenant_id)
            copy.write((end + b"%d" % tenant_id).join(batch.direct))
            copy.write(end)
            if while_copying is not None:
                while_copying()
    except (psycopg.IntegrityError, psycopg.DataError):
        conn.execute(f"rollback to savepoint {_SAVEPOINT}; release savepoint {_SAVEPOINT}")
        return False
    except BaseException:
        if not conn.broken and conn.info.transaction_status in _OPEN:
            conn.execute(f"rollback to savepoint {_SAVEPOINT}")
        raise
    conn.execute(f"release savepoint {_SAVEPOINT}")
    return True


def _upsert(
    conn: psycopg.Connection,
    spec: EntitySpec,
    tenant_id: int,
    rows: dict[int, tuple[str, bytes]],
    track_seen: bool,
) -> tuple[int, int, datetime | None]:
    """Stage `rows` in the (empty) stage table and upsert them (and their child rows):
    (inserted, updated, newest)."""
    with conn.cursor() as cur:
        with cur.copy(f"copy pg_temp.{_STAGE} (id, modified_on, raw) from stdin") as copy:
            buffer: list[bytes] = []
            size = 0
            for _, line in rows.values():
                buffer.append(line)
                size += len(line)
                if size >= _COPY_CHUNK:
                    copy.write(b"".join(buffer))
                    buffer.clear()
                    size = 0
            if buffer:
                copy.write(b"".join(buffer))
        cur.execute(upsert_sql(spec), {"tenant_id": tenant_id})
        counts = cur.fetchone()
        assert counts is not None
        inserted, written, newest, parents = counts
        if spec.children and parents:
            for child in spec.children:
                delete, insert = child_sql(child)
                cur.execute(delete, {"tenant_id": tenant_id, "parents": parents})
                cur.execute(insert, {"tenant_id": tenant_id, "parents": parents})
        if track_seen:
            cur.execute(
                f"insert into pg_temp.{SEEN_TABLE} select id from pg_temp.{_STAGE} "
                "on conflict do nothing"
            )
    return inserted, written - inserted, newest
