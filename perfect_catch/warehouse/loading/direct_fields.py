"""The typed columns of a direct COPY row, written from Python.

An initial load COPYs pages straight into the target table (see `load.load_records`), its typed
columns written from Python exactly as the SQL expression of `Column.expr` derives them from the
raw record. That takes one function per entity, compiled from the entity's columns: a loop
calling a check and a formatter per column cost more than the rest of the row.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import orjson

from perfect_catch.warehouse.catalog import EntitySpec
from perfect_catch.warehouse.loading.values import (
    DECIMAL_FAST,
    TIMESTAMP_FAST,
    check_date,
    check_timestamp,
    plain_date,
)

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> bytes:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.translate(_COPY_ESCAPES)
    return value.encode()


# Per column type, the (condition, COPY text) branches for a value `v` that is not None. They
# admit only values the full checks accept (most of them plainly valid, see
# `fast_path._FAST_TYPES`), except integers out of the 64-bit range, left to PostgreSQL as on the
# fast path: the COPY fails with a data error and the page takes the upsert path. A value that
# meets no branch has no direct COPY text (a number in a text column, say). Timestamps, dates
# and decimals that match their fast patterns hold nothing COPY escapes.
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
    "decimal": DECIMAL_FAST.fullmatch,
    "timestamp": TIMESTAMP_FAST.fullmatch,
    "plain_date": plain_date,
    "check_timestamp": check_timestamp,
    "check_date": check_date,
    "NULL": b"\\N",
}


@cache
def compile_typed_fields(spec: EntitySpec) -> Callable[[dict[str, Any]], bytes | None] | None:
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
        for key in rest:  # as `values.dig`: a step into anything but an object gives null
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
