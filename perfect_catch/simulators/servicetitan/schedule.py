"""Technicians' time as booked: live appointment windows by day.

A technician is busy exactly while an active appointment they are actively assigned to runs,
so booking, rescheduling, assigning and the capacity endpoint all read one source. Base
appointments are found without scanning the tenant: an appointment starts between 21 days
before and 11 days after its job's modifiedOn, and job modifiedOn grows with the job index,
so a bisection over jobs bounds the appointments that can overlap a window; `Schedule` keeps
them, and every changed or created appointment, indexed by day.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

from perfect_catch.simulators.servicetitan.records.jobs import base_booking
from perfect_catch.simulators.servicetitan.records.shared import Record
from perfect_catch.simulators.servicetitan.timefmt import (
    TICKS_PER_DAY,
    TICKS_PER_HOUR,
    parse_instant,
)

if TYPE_CHECKING:
    from perfect_catch.simulators.servicetitan.store import TenantStore
    from perfect_catch.simulators.servicetitan.universe import Universe

_BEFORE_JOB = 22 * TICKS_PER_DAY
_AFTER_JOB = 12 * TICKS_PER_DAY
_LONGEST_BASE_APPOINTMENT = 2 * TICKS_PER_HOUR
# (start, end, appointment id) of one booking.
Booking = tuple[int, int, int]


def _base_candidates(u: Universe, start: int, end: int) -> range:
    """Indexes of the base appointments that may overlap [start, end)."""
    jobs = range(u.counts["jobs"])

    def modified(j: int) -> int:
        return u.modified_ticks("jobs", j)

    low = bisect.bisect_left(jobs, start - _LONGEST_BASE_APPOINTMENT - _AFTER_JOB, key=modified)
    high = bisect.bisect_right(jobs, end + _BEFORE_JOB, key=modified)
    if low >= high:
        return range(0)
    return range(
        u.children("jobs", "appointments", low).start,
        u.children("jobs", "appointments", high - 1).stop,
    )


def appointment_window(appointment: Record) -> tuple[int, int] | None:
    try:
        return parse_instant(appointment["start"]), parse_instant(appointment["end"])
    except (KeyError, TypeError, ValueError):
        return None


def is_live(appointment: Record) -> bool:
    return appointment.get("active") is True and appointment.get("status") != "Canceled"


class Schedule:
    """Live appointment windows by day, kept current from the store's change log.

    Base appointments of a day are generated once; changed or created appointments are
    re-indexed when the store records a new version of them (the clock only moves forward, so
    the changes since the last look are the overlay keys from the last instant seen on). A
    check is then a walk over one or a few days, whatever the tenant's size or age.
    """

    def __init__(self, store: TenantStore) -> None:
        self.store = store
        self._base: dict[int, list[Booking]] = {}
        self._changed: dict[int, Booking | None] = {}
        self._by_day: dict[int, set[int]] = {}
        self._seen = -(1 << 62)
        self._technicians: tuple[int, list[int]] = (-1, [])

    def active_technicians(self) -> list[int]:
        """Ids of active technicians, re-read only when a technician record changes."""
        version = self.store.version("technicians")
        if self._technicians[0] != version:
            u = self.store.universe
            ids = (u.id_of("technicians", i) for i in range(u.counts["technicians"]))
            active = [t for t in ids if (self.store.get("technicians", t) or {}).get("active")]
            self._technicians = (version, active)
        return self._technicians[1]

    def _sync(self) -> None:
        for ticks, appointment_id in self.store.changes_since("appointments", self._seen):
            self._reindex(appointment_id)
            self._seen = max(self._seen, ticks)

    def _reindex(self, appointment_id: int) -> None:
        old = self._changed.get(appointment_id)
        if old is not None:
            for day in _days(old[0], old[1]):
                self._by_day[day].discard(appointment_id)
        record = self.store.get("appointments", appointment_id)
        window = appointment_window(record) if record is not None and is_live(record) else None
        if window is None or window[1] <= window[0]:
            self._changed[appointment_id] = None
            return
        self._changed[appointment_id] = (*window, appointment_id)
        for day in _days(*window):
            self._by_day.setdefault(day, set()).add(appointment_id)

    def _base_day(self, day: int) -> list[Booking]:
        cached = self._base.get(day)
        if cached is None:
            u = self.store.universe
            low, high = day * TICKS_PER_DAY, (day + 1) * TICKS_PER_DAY
            cached = []
            for index in _base_candidates(u, low, high):
                booked = base_booking(u, index)
                if booked is not None and booked[0] < high and low < booked[1]:
                    cached.append((booked[0], booked[1], u.id_of("appointments", index)))
            self._base[day] = cached
        return cached

    def overlapping(self, start: int, end: int) -> list[Booking]:
        """Live appointments that overlap [start, end), in id order."""
        self._sync()
        found: dict[int, Booking] = {}
        for day in _days(start, end):
            for booking in self._base_day(day):
                if booking[2] not in self._changed and booking[0] < end and start < booking[1]:
                    found[booking[2]] = booking
            for appointment_id in self._by_day.get(day, ()):
                booking = self._changed[appointment_id]
                if booking is not None and booking[0] < end and start < booking[1]:
                    found[appointment_id] = booking
        return [found[i] for i in sorted(found)]


def _days(start: int, end: int) -> range:
    return range(start // TICKS_PER_DAY, (end - 1) // TICKS_PER_DAY + 1)
