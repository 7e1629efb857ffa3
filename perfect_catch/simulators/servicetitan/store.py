"""State of one simulated tenant: lazily generated base records plus an overlay of changes.

Base records are never stored; only records changed or created since start live in memory, each
with the instant (ticks) that orders it in the export feed. The export feed is ordered by
(modifiedOn, id): first the base stream (skipping ids whose current version is in the overlay),
then the overlay, whose instants come from the simulator clock and so sort after every base
record. A continuation token is the (ticks, id) of the last record served.
"""

from __future__ import annotations

import base64
import bisect
import threading
from collections import OrderedDict, deque
from collections.abc import Iterator
from typing import Any

import orjson

from perfect_catch.simulators.servicetitan.records import GENERATORS
from perfect_catch.simulators.servicetitan.records.shared import Record
from perfect_catch.simulators.servicetitan.timefmt import (
    TICKS_PER_SECOND,
    format_ticks,
    parse_instant,
)
from perfect_catch.simulators.servicetitan.universe import CLOCK_START, Universe

Key = tuple[int, int]
FEED_START: Key = (-(1 << 62), -1)
_MAX_ID = 1 << 62
PAGE_CACHE_BYTES = 32 * 1024 * 1024


class TokenError(ValueError):
    """An export `from` value that is neither a continuation token nor a date."""


def encode_token(key: Key) -> str:
    raw = f"st1:{key[0]}:{key[1]}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_from(value: str | None) -> Key:
    """Feed position after which to continue: a token's record, or just before a date."""
    if value is None or value.strip() == "":
        return FEED_START
    text = value.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        if raw.startswith("st1:"):
            _, ticks, record_id = raw.split(":")
            return int(ticks), int(record_id)
    except (ValueError, UnicodeDecodeError):
        pass
    try:
        return parse_instant(text) - 1, _MAX_ID
    except ValueError as exc:
        raise TokenError(f"'{value}' is neither a continuation token nor a date") from exc


def copy_record(record: Record) -> Record:
    """A deep copy that shares nothing with generated records (they may share constants)."""
    return orjson.loads(orjson.dumps(record))


class SimClock:
    """Simulated time, shared by all tenants. It only moves forward."""

    TICK = TICKS_PER_SECOND // 8 + 1_237

    def __init__(self, start: int = CLOCK_START) -> None:
        self.now = start
        self.step = self.TICK

    def tick(self, step: int | None = None) -> int:
        """Move forward by `step` ticks (default: the current step) and return the new now."""
        self.now += self.step if step is None else max(1, step)
        return self.now


class TenantStore:
    """Records of one tenant: base universe + overlay, export feed and id-ordered listing."""

    def __init__(self, universe: Universe, clock: SimClock, lock: threading.RLock) -> None:
        self.universe = universe
        self.clock = clock
        self.lock = lock
        self._overlay: dict[str, dict[int, tuple[int, Record]]] = {e: {} for e in GENERATORS}
        self._keys: dict[str, list[Key]] = {e: [] for e in GENERATORS}
        self._created: dict[str, int] = dict.fromkeys(GENERATORS, 0)
        self._versions: dict[str, int] = dict.fromkeys(GENERATORS, 0)
        self._page_cache: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._cache_bytes = 0
        self.notes: dict[tuple[str, int], list[Record]] = {}

    @property
    def tenant_id(self) -> int:
        return self.universe.tenant_id

    # --- reading ------------------------------------------------------------------------------

    def exists(self, entity: str, record_id: int) -> bool:
        return record_id in self._overlay[entity] or self.universe.is_base(entity, record_id)

    def get(self, entity: str, record_id: int) -> Record | None:
        """Current version of a record, or None. The caller may not modify it."""
        changed = self._overlay[entity].get(record_id)
        if changed is not None:
            return changed[1]
        u = self.universe
        if u.is_base(entity, record_id):
            return GENERATORS[entity](u, u.index_of(entity, record_id))
        return None

    def count(self, entity: str) -> int:
        return self.universe.counts[entity] + self._created[entity]

    def _base_after(self, entity: str, after: Key) -> int:
        u = self.universe
        first_id = u.id_of(entity, 0)
        return bisect.bisect_right(
            range(u.counts[entity]),
            after,
            key=lambda i: (u.modified_ticks(entity, i), first_id + i),
        )

    def feed(self, entity: str, after: Key = FEED_START) -> Iterator[tuple[Key, Record]]:
        """Current records after position `after`, in (modifiedOn, id) order."""
        u = self.universe
        generate = GENERATORS[entity]
        overlay = self._overlay[entity]
        first_id = u.id_of(entity, 0)
        modified = u.modified_ticks
        for index in range(self._base_after(entity, after), u.counts[entity]):
            record_id = first_id + index
            if record_id in overlay:
                continue
            yield (modified(entity, index), record_id), generate(u, index)
        keys = self._keys[entity]
        position = bisect.bisect_right(keys, after)
        for key in list(keys[position:]):
            entry = overlay.get(key[1])
            if entry is not None and entry[0] == key[0]:
                yield key, entry[1]

    def export_page(
        self,
        entity: str,
        from_value: str | None,
        include_recent: bool,
        limit: int,
        recent_window_ticks: int,
    ) -> tuple[list[Record], bool, str]:
        """One export page: (records, hasMore, continueFrom)."""
        after = decode_from(from_value)
        with self.lock:
            repeats: deque[Record] = deque(maxlen=limit // 2)
            start = after
            if include_recent and after != FEED_START and limit > 1:
                start = (after[0] - recent_window_ticks, -1)
            page: list[Record] = []
            last = after
            has_more = False
            for key, record in self.feed(entity, start):
                if key <= after:
                    repeats.append(record)
                    continue
                if len(repeats) + len(page) >= limit:
                    has_more = True
                    break
                page.append(record)
                last = key
            return [*repeats, *page], has_more, encode_token(last)

    def export_page_json(
        self,
        entity: str,
        from_value: str | None,
        include_recent: bool,
        limit: int,
        recent_window_ticks: int,
    ) -> bytes:
        """The export response body, served from a bounded cache while the entity is unchanged.

        Clients re-reading a feed (repeated full syncs, retries after faults) then cost nothing;
        any change to the entity bumps its version, so a cached page is never stale.
        """
        key = (
            entity,
            from_value or "",
            include_recent,
            limit,
            recent_window_ticks,
            self._versions[entity],
        )
        with self.lock:
            cached = self._page_cache.get(key)
            if cached is not None:
                self._page_cache.move_to_end(key)
                return cached
            data, has_more, token = self.export_page(
                entity, from_value, include_recent, limit, recent_window_ticks
            )
            body = orjson.dumps({"hasMore": has_more, "continueFrom": token, "data": data})
            if len(body) <= PAGE_CACHE_BYTES // 4:
                self._page_cache[key] = body
                self._cache_bytes += len(body)
                while self._cache_bytes > PAGE_CACHE_BYTES:
                    _, evicted = self._page_cache.popitem(last=False)
                    self._cache_bytes -= len(evicted)
            return body

    def iter_by_id(self, entity: str) -> Iterator[Record]:
        """Current records in id order: base ids, then created ones."""
        u = self.universe
        generate = GENERATORS[entity]
        overlay = self._overlay[entity]
        first_id = u.id_of(entity, 0)
        for index in range(u.counts[entity]):
            entry = overlay.get(first_id + index)
            yield entry[1] if entry is not None else generate(u, index)
        end = first_id + u.counts[entity]
        for record_id in sorted(i for i in overlay if i >= end):
            yield overlay[record_id][1]

    def records(self, entity: str) -> Iterator[Record]:
        """Ground truth: every current record exactly as a full export returns it, in feed order."""
        for _, record in self.feed(entity):
            yield record

    # --- writing ------------------------------------------------------------------------------

    def put(
        self,
        entity: str,
        record_id: int,
        record: Record,
        ticks: int | None = None,
        stamp: bool = True,
    ) -> Record:
        """Store a new current version at `ticks` (default: the next clock tick).

        `stamp=False` keeps the record's own `modifiedOn` (used to serve malformed records).
        """
        with self.lock:
            when = self.clock.tick() if ticks is None else ticks
            if stamp:
                record["modifiedOn"] = format_ticks(when)
            overlay = self._overlay[entity]
            keys = self._keys[entity]
            old = overlay.get(record_id)
            if old is not None:
                position = bisect.bisect_left(keys, (old[0], record_id))
                if position < len(keys) and keys[position] == (old[0], record_id):
                    del keys[position]
            overlay[record_id] = (when, record)
            self._versions[entity] += 1
            bisect.insort(keys, (when, record_id))
            return record

    def new_id(self, entity: str) -> tuple[int, int]:
        """(id, virtual index) for a record created now; the index seeds its generated fields."""
        with self.lock:
            index = self.universe.counts[entity] + self._created[entity]
            self._created[entity] += 1
            return self.universe.id_of(entity, index), index

    def template(self, entity: str, index: int) -> Record:
        """A generated record at a (possibly virtual) index, safe to modify."""
        return copy_record(GENERATORS[entity](self.universe, index))

    def current_copy(self, entity: str, record_id: int) -> Record | None:
        record = self.get(entity, record_id)
        return None if record is None else copy_record(record)

    def changed(self, entity: str, record_id: int) -> bool:
        """Whether a record has a version in the overlay (changed or created since start)."""
        return record_id in self._overlay[entity]

    def version(self, entity: str) -> int:
        """A number that grows with every change to `entity`."""
        return self._versions[entity]

    def changes_since(self, entity: str, ticks: int) -> list[Key]:
        """Overlay keys (ticks, id) of versions written at or after `ticks`, in write order."""
        keys = self._keys[entity]
        return keys[bisect.bisect_left(keys, (ticks, -(1 << 62))) :]

    def overlay_ids(self, entity: str) -> list[int]:
        return list(self._overlay[entity])

    def stats(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant_id,
            "counts": {e: self.count(e) for e in GENERATORS},
            "changed": {e: len(v) for e, v in self._overlay.items() if v},
        }
