"""The handle every change to one tenant goes through: its store and universe, the technicians'
schedule, and what the simulation has created and still follows.

The writes by area (`booking`, `crm`, `sales`, `pricebook`) take a `TenantWriter`; `Mutator`,
which composes them into API writes and business days, is one. So the writes sit below what
composes them, and import nothing above.
"""

from __future__ import annotations

from typing import Any

from perfect_catch.simulators.servicetitan.records.shared import Record
from perfect_catch.simulators.servicetitan.refusals import NotFound
from perfect_catch.simulators.servicetitan.schedule import Schedule
from perfect_catch.simulators.servicetitan.store import TenantStore
from perfect_catch.simulators.servicetitan.timefmt import format_ticks


class TenantWriter:
    """Record-level changes on one tenant, and the bookkeeping the writes share."""

    def __init__(self, store: TenantStore) -> None:
        self.store = store
        self.u = store.universe
        # Records created in the simulation that are still open, so later days can progress them.
        self.open_jobs: list[int] = []
        self.open_estimates: list[int] = []
        self.unpaid_invoices: list[int] = []
        self.customer_locations: dict[int, list[int]] = {}
        # Appointments and assignments created here, by parent, so a job's visits and an
        # appointment's technicians are found without scanning the overlay.
        self.job_appointments: dict[int, list[int]] = {}
        self.assignments_by_appointment: dict[int, list[int]] = {}
        self.schedule = Schedule(store)
        self.item_ids = 0
        self.location_contacts = 0

    def require(self, entity: str, record_id: int, field: str = "id") -> Record:
        record = self.store.current_copy(entity, record_id)
        if record is None:
            raise NotFound(entity, record_id, field)
        return record

    def touch(
        self,
        entity: str,
        record_id: int,
        changes: dict[str, Any] | None = None,
        ticks: int | None = None,
    ) -> Record:
        record = self.require(entity, record_id)
        record.update(changes or {})
        return self.store.put(entity, record_id, record, ticks)

    def create_like(
        self, entity: str, changes: dict[str, Any] | None = None, ticks: int | None = None
    ) -> Record:
        """A new record generated at the next virtual index, with `changes` applied."""
        record_id, index = self.store.new_id(entity)
        record = self.store.template(entity, index)
        when = self.store.clock.tick() if ticks is None else ticks
        record.update({"id": record_id, "createdOn": format_ticks(when), "active": True})
        record.update(changes or {})
        return self.store.put(entity, record_id, record, when)
