"""The full checks of a record: every reason a record cannot be loaded, named by its field.

They run for any record the fast path (`fast_path`) does not find plainly valid, and for a whole
page when PostgreSQL refused what the fast path let through, so the culprit is rejected with a
reason instead of failing its page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import orjson

from perfect_catch.warehouse.catalog import ChildSpec, Column
from perfect_catch.warehouse.loading.rejects import Reject, reject_raw
from perfect_catch.warehouse.loading.values import (
    CHECKS,
    INT64_MAX,
    INT64_MIN,
    TIMESTAMP_FAST,
    RecordError,
    check_any,
    check_timestamp,
    dig,
    parse_timestamp,
)

Check = tuple[str, tuple[str, ...] | None, Callable[[Any], bool], str, str]


@cache
def column_checks(columns: tuple[Column, ...]) -> tuple[Check, ...]:
    """The checks of the typed columns that can fail a cast (text and jsonb cannot)."""
    checks: list[Check] = []
    for column in columns:
        check, expected = CHECKS[column.type]
        if check is not check_any:
            path = None if len(column.path) == 1 else column.path
            checks.append((column.path[0], path, check, expected, ".".join(column.path)))
    return tuple(checks)


def _check_columns(record: dict[str, Any], checks: tuple[Check, ...], prefix: str) -> None:
    for key, path, check, expected, label in checks:
        value = record.get(key) if path is None else dig(record, path)
        if value is not None and not check(value):
            shown = orjson.dumps(value)[:60].decode("utf-8", "replace")
            raise RecordError(f"{prefix}{label}: expected {expected}, got {shown}")


def _record_id(record: dict[str, Any], prefix: str = "") -> int:
    rid = record.get("id")
    if rid is None:
        raise RecordError(f"{prefix}id: missing")
    if isinstance(rid, bool) or not isinstance(rid, int):
        raise RecordError(f"{prefix}id: expected an integer, got {type(rid).__name__}")
    if not INT64_MIN <= rid <= INT64_MAX:
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
        if TIMESTAMP_FAST.fullmatch(value):
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
            if modified is not None and not check_timestamp(modified):
                raise RecordError(f"{prefix}modifiedOn: expected an ISO 8601 timestamp")
            _check_columns(item, column_checks(child.columns), prefix)


class Rejected(Exception):
    """A record the full checks refused, with the id it had (if usable) for the seen-ids table."""

    def __init__(self, rid: int | None, reject: Reject) -> None:
        super().__init__(reject.reason)
        self.rid = rid
        self.reject = reject


def check_record(
    record: Any,
    checks: tuple[Check, ...],
    modified_fields: tuple[str, ...],
    children: tuple[ChildSpec, ...],
) -> tuple[int, str, bytes]:
    """The full checks of one record: its id, modifiedOn text and body, or `Rejected`."""
    rid: int | None = None
    try:
        if type(record) is not dict:
            raise RecordError(f"record: expected a JSON object, got {type(record).__name__}")
        candidate = record.get("id")
        fast = type(candidate) is int and INT64_MIN <= candidate <= INT64_MAX
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
        reject = Reject(None if rid is None else str(rid), str(exc), reject_raw(record))
        raise Rejected(rid, reject) from None
    return rid, modified, body
