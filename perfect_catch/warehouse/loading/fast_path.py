"""The fast path's question: is a record plainly valid, every typed value already of its JSON
type? Answering it costs a type test per value; a record it is unsure of gets the full checks
(`checks`), which say what is wrong."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from perfect_catch.warehouse.catalog import ChildSpec, Column
from perfect_catch.warehouse.loading.values import (
    DECIMAL_FAST,
    INT64_MAX,
    INT64_MIN,
    TIMESTAMP_FAST,
    dig,
    plain_date,
)

FastCheck = tuple[str, tuple[str, ...] | None, tuple[type, ...], Callable[[str], Any] | None]

# The Python types other than str a typed value may have for the fast path to take it without a
# closer look, and the pattern a str must match (none: a str always gets the full checks). A JSON
# number always casts to numeric, a JSON integer to bigint unless it is out of range (which the
# cast refuses, sending the page to the slow path). Strings in number or boolean columns, which
# PostgreSQL reads more loosely than the checks here do (hex, "NaN", "yes"), get the full checks,
# except plain decimals in numeric columns (money, which ServiceTitan sends as "1234.50").
_FAST_TYPES: dict[str, tuple[tuple[type, ...], Callable[[str], Any] | None]] = {
    "bigint": ((int,), None),
    "numeric": ((int, float), DECIMAL_FAST.fullmatch),
    "boolean": ((bool,), None),
    "timestamptz": ((), TIMESTAMP_FAST.fullmatch),
    "date": ((), plain_date),
}


@cache
def column_fast_checks(columns: tuple[Column, ...]) -> tuple[FastCheck, ...]:
    """The fast-path checks of the typed columns that can fail a cast (text and jsonb cannot)."""
    checks: list[FastCheck] = []
    for column in columns:
        if column.type in ("text", "jsonb"):
            continue
        types, pattern = _FAST_TYPES[column.type]
        path = None if len(column.path) == 1 else column.path
        checks.append((column.path[0], path, types, pattern))
    return tuple(checks)


def plainly_valid(record: dict[str, Any], checks: tuple[FastCheck, ...]) -> bool:
    for key, path, types, pattern in checks:
        value = record.get(key) if path is None else dig(record, path)
        if value is None:
            continue
        if value.__class__ is str:
            if pattern is None or pattern(value) is None:
                return False
        elif value.__class__ not in types:
            return False
    return True


def children_plainly_valid(record: dict[str, Any], children: tuple[ChildSpec, ...]) -> bool:
    """The fast path's `checks._check_children`: True when every item is plainly valid;
    otherwise the full checks run and name what is wrong."""
    for child in children:
        items = record.get(child.array_field)
        if items is None:
            continue
        if items.__class__ is not list:
            return False
        checks = column_fast_checks(child.columns)
        seen: set[int] = set()
        for item in items:
            if item.__class__ is not dict:
                return False
            item_id = item.get("id")
            if item_id.__class__ is not int or not INT64_MIN <= item_id <= INT64_MAX:
                return False
            if item_id in seen:
                return False
            seen.add(item_id)
            modified = item.get("modifiedOn")
            if modified is not None and (
                modified.__class__ is not str or TIMESTAMP_FAST.fullmatch(modified) is None
            ):
                return False
            if not plainly_valid(item, checks):
                return False
    return True
