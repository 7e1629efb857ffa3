"""The shape of a simulated tenant: how many records of each entity, their ids and timestamps.

Nothing here is stored per record. Entity `e` has `count(e)` base records with indexes 0..n-1;
a record's id is `ID_BASE[e] + index`; its parent is found by proportional index arithmetic
(`index * parents // children`), so children of one parent are consecutive and every parent has
at least one child where counts allow. Base `modifiedOn` is non-decreasing in index, and about a
quarter of groups of `TIE_GROUP` consecutive records share the exact same instant, so ties
straddle page boundaries. All draws come from a 64-bit mix of (seed, tenant, entity, index).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, TypeVar

from perfect_catch.simulators.servicetitan.timefmt import TICKS_PER_DAY, TICKS_PER_SECOND, ticks_of
from perfect_catch.simulators.timeline import shift_days

T = TypeVar("T")
MASK64 = (1 << 64) - 1

SIZES = ("small", "medium", "large")
TIE_GROUP = 5

# Base counts of the real tenant the platform was first built for ("medium").
MEDIUM_COUNTS: dict[str, int] = {
    "customers": 1696,
    "locations": 1903,
    "customer-contacts": 3620,
    "jobs": 3260,
    "appointments": 4156,
    "appointment-assignments": 4156,
    "estimates": 1247,
    "invoices": 3597,
    "invoice-items": 9352,
    "payments": 3068,
    "installed-equipment": 761,
}
# Company setup: the same in every size.
FIXED_COUNTS: dict[str, int] = {
    "technicians": 14,
    "employees": 26,
    "business-units": 6,
    "job-types": 12,
    "campaigns": 9,
    "materials": 17,
    "pricebook-equipment": 10,
    "services": 12,
    "categories": 10,
}
CUSTOMER_TARGET = {"small": 200, "medium": 1696, "large": 1_000_000}

ID_BASE: dict[str, int] = {
    "customers": 10_000_000,
    "locations": 20_000_000,
    "customer-contacts": 30_000_000,
    "jobs": 40_000_000,
    "appointments": 50_000_000,
    "appointment-assignments": 60_000_000,
    "estimates": 70_000_000,
    "invoices": 80_000_000,
    "invoice-items": 90_000_000,
    "payments": 110_000_000,
    "installed-equipment": 120_000_000,
    "technicians": 1_000,
    "employees": 2_000,
    "business-units": 3_000,
    "job-types": 4_000,
    "campaigns": 5_000,
    "materials": 6_000,
    "pricebook-equipment": 7_000,
    "services": 8_000,
    "categories": 9_000,
}
# Ids of records that are not their own entity (estimate items) are derived from these.
ESTIMATE_ITEM_ID_BASE = 100_000_000_000
NOTE_ID_BASE = 200_000_000

ENTITIES = tuple(ID_BASE)
# Entities whose base records are spread over the tenant's history; setup entities are older.
HISTORY_START = ticks_of(datetime(2019, 1, 7, 8, 0, tzinfo=UTC))
HISTORY_END = ticks_of(datetime(2025, 6, 1, 0, 0, tzinfo=UTC))
SETUP_END = ticks_of(datetime(2019, 1, 4, 17, 0, tzinfo=UTC))
SETUP_START = ticks_of(datetime(2018, 11, 1, 9, 0, tzinfo=UTC))
# The simulated clock starts after every base record, so mutations sort after the base stream.
_CREATED_SPREAD = 21 * 86_400 * TICKS_PER_SECOND - 1
CLOCK_START = ticks_of(datetime(2025, 6, 2, 8, 0, tzinfo=UTC))
# These instants are laid out for `timeline.REFERENCE_ANCHOR`; a Universe shifts them to its own.


def clock_start(anchor: date | str | None = None) -> int:
    """When the simulated clock starts for `anchor`: 08:00 UTC on the anchor date."""
    return CLOCK_START + shift_days(anchor) * TICKS_PER_DAY


def mix64(value: int) -> int:
    """splitmix64 finaliser: a cheap, well-spread hash of a 64-bit integer."""
    value = (value + 0x9E3779B97F4A7C15) & MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK64
    return value ^ (value >> 31)


class Draw:
    """A stream of pseudo-random numbers for one record, from its 64-bit key."""

    __slots__ = ("state",)

    def __init__(self, key: int) -> None:
        self.state = key

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        value = self.state
        value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK64
        return value ^ (value >> 31)

    def below(self, n: int) -> int:
        return self.next() % n

    def pick(self, options: tuple[T, ...]) -> T:
        return options[self.next() % len(options)]

    def chance(self, share: float) -> bool:
        return (self.next() >> 11) < share * (1 << 53)


def counts_for(size: str) -> dict[str, int]:
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
    target = CUSTOMER_TARGET[size]
    base = MEDIUM_COUNTS["customers"]
    counts = {name: max(1, (n * target + base // 2) // base) for name, n in MEDIUM_COUNTS.items()}
    counts["customers"] = target
    counts["appointment-assignments"] = counts["appointments"]
    counts.update(FIXED_COUNTS)
    return counts


class Universe:
    """Counts, ids, timestamps and per-record randomness of one tenant at one seed and size."""

    def __init__(
        self, seed: int, tenant_id: int, size: str, anchor: date | str | None = None
    ) -> None:
        self.seed = seed
        self.tenant_id = tenant_id
        self.size = size
        #: Whole days between the reference layout and this universe's anchor, in ticks.
        self.shift = shift_days(anchor) * TICKS_PER_DAY
        self.counts = counts_for(size)
        self._key = mix64(mix64(seed & MASK64) ^ (tenant_id * 0x2545F4914F6CDD1D & MASK64))
        self._salt = {
            name: mix64(self._key ^ (i + 1) * 0x632BE59BD9B4E019 & MASK64)
            for i, name in enumerate(ENTITIES)
        }
        self._timeline: dict[str, tuple[int, int, int, int]] = {}
        self._group_memo: dict[str, tuple[int, int, int]] = {}
        self.memo: dict[str, Any] = {}
        for name, count in self.counts.items():
            start, end = (
                (SETUP_START, SETUP_END) if name in FIXED_COUNTS else (HISTORY_START, HISTORY_END)
            )
            groups = max(1, -(-count // TIE_GROUP))
            step = max(TIE_GROUP * 4, (end - start) // groups)
            self._timeline[name] = (start + self.shift, step, step // 2, step // (2 * TIE_GROUP))

    def draw(self, entity: str, index: int, purpose: int = 0) -> Draw:
        return Draw(self._salt[entity] ^ (index * 0xD6E8FEB86659FD93 + purpose) & MASK64)

    def bits(self, entity: str, index: int, purpose: int = 0) -> int:
        """128 well-mixed bits for one record; hot generators peel fields off with % and //."""
        h = (
            (self._salt[entity] ^ (index * 0xD6E8FEB86659FD93 + purpose) & MASK64)
            + 0x9E3779B97F4A7C15
        ) & MASK64
        h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & MASK64
        h ^= h >> 31
        return (h << 64) | ((h * 0xC2B2AE3D27D4EB4F + index) & MASK64)

    def id_of(self, entity: str, index: int) -> int:
        return ID_BASE[entity] + index

    def index_of(self, entity: str, record_id: int) -> int:
        return record_id - ID_BASE[entity]

    def is_base(self, entity: str, record_id: int) -> bool:
        return 0 <= record_id - ID_BASE[entity] < self.counts[entity]

    def modified_ticks(self, entity: str, index: int) -> int:
        """Base modifiedOn: group start + jitter; tied groups share one instant."""
        group, offset = divmod(index, TIE_GROUP)
        memo = self._group_memo.get(entity)
        if memo is not None and memo[0] == group:
            base, spacing = memo[1], memo[2]
        else:
            start, step, jitter_span, spacing = self._timeline[entity]
            mixed = mix64(self._salt[entity] ^ group)
            base = start + group * step + mixed % jitter_span
            if mixed >> 62 == 0:
                spacing = 0
            self._group_memo[entity] = (group, base, spacing)
        return base + offset * spacing

    def created_ticks(self, entity: str, index: int, modified: int | None = None) -> int:
        if modified is None:
            modified = self.modified_ticks(entity, index)
        start = self._timeline[entity][0]
        back = (self._salt[entity] ^ index * 0x9FB21C651E98DF25) % _CREATED_SPREAD
        return max(start, modified - back)

    def parent(self, child: str, parent: str, index: int) -> int:
        """Index of the parent record of child `index` (children of a parent are consecutive)."""
        return index * self.counts[parent] // self.counts[child]

    def children(self, parent: str, child: str, index: int) -> range:
        """Indexes of the children of parent `index` (inverse of `parent`)."""
        p, c = self.counts[parent], self.counts[child]
        return range(-(-index * c // p), -(-(index + 1) * c // p))

    def recency(self, entity: str, index: int) -> float:
        """Position of a base record in the tenant's history: 0 oldest, 1 newest."""
        return index / max(1, self.counts[entity])
