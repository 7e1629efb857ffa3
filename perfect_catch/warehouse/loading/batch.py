"""A page of records turned into a `PreparedBatch`: validated (fast path, full checks for the
rest), the newest version per id kept, and written as the COPY lines of the stage table (and,
for an initial load, of the target table). Needs no connection, so the sync engine prepares the
next page on its fetch thread while the previous one is in PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from perfect_catch.warehouse.catalog import EntitySpec
from perfect_catch.warehouse.loading.checks import Rejected, check_record, column_checks
from perfect_catch.warehouse.loading.direct_fields import compile_typed_fields
from perfect_catch.warehouse.loading.fast_path import (
    children_plainly_valid,
    column_fast_checks,
    plainly_valid,
)
from perfect_catch.warehouse.loading.rejects import Reject
from perfect_catch.warehouse.loading.values import (
    INT64_MAX,
    INT64_MIN,
    TIMESTAMP_FAST,
    parse_timestamp,
)


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


def build_batch(
    spec: EntitySpec, records: Sequence[Any], fast: bool, direct: bool = False
) -> PreparedBatch:
    """The batch of `records`: on the fast path when `fast` (the full checks for what it is
    unsure of), else with the full checks of every record; direct COPY rows with `direct`."""
    rows: dict[int, tuple[str, bytes]] = {}
    rejects: list[Reject] = []
    rejected_ids: list[int] = []
    # With `direct`, the typed columns of a direct COPY row; the function that writes them also
    # tells a plainly valid record (None: not plainly valid, or no direct COPY text).
    typed_fields = compile_typed_fields(spec) if direct and fast else None
    lines: dict[int, bytes] | None = {} if typed_fields is not None else None
    checks = column_checks(spec.columns)
    modified_fields = spec.modified_fields
    children = spec.children
    fast_checks = column_fast_checks(spec.columns) if fast else None
    match_timestamp = TIMESTAMP_FAST.fullmatch
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
                and INT64_MIN <= rid <= INT64_MAX
                and modified.__class__ is str
                and match_timestamp(modified) is not None
                and (
                    (typed_fields is not None and (typed := typed_fields(record)) is not None)
                    or plainly_valid(record, fast_checks)
                )
            ):
                try:
                    if not children or children_plainly_valid(record, children):
                        body = dumps(record)
                except TypeError:
                    body = None
                if body is not None and b"\\u0000" in body:
                    body = None  # the full checks say why
        if body is None:
            try:
                rid, modified, body = check_record(record, checks, modified_fields, children)
            except Rejected as rejected:
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
    """The latest of timestamps that matched `TIMESTAMP_FAST`. When all are in UTC ('Z') with
    as many fraction digits, text order is time order: one parse instead of one each."""
    lengths = set(map(len, stamps))
    if len(lengths) == 1 and {stamp[-1] for stamp in stamps} == {"Z"}:
        return parse_timestamp(max(stamps))
    return max(map(parse_timestamp, stamps))


def prepare_batch(
    spec: EntitySpec, records: Iterable[Any], *, direct: bool = False
) -> PreparedBatch:
    """Validate records on the fast path (see the package docstring) and build their COPY lines.

    With `direct`, also build the rows of a direct COPY into the target table when every record
    of the page is plainly valid and the entity allows it (see `load_records`). Needs no
    connection, so it can run on another thread than the load.
    """
    return build_batch(
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
    batch = build_batch(spec, list(records), fast=False)
    return batch.rows, batch.rejects, batch.rejected_ids


def recheck(spec: EntitySpec, batch: PreparedBatch) -> PreparedBatch:
    """The batch again with the full checks of every record, after PostgreSQL refused a value the
    fast path passed on: the checks reject the culprit with a reason."""
    return build_batch(spec, batch.records, fast=False)
