"""Simulated ServiceTitan: OAuth, export feeds, list/read/write endpoints, seeded and scalable.

Modules: `universe` (counts, ids, timestamps of a tenant), `records` (each base record as a pure
function of its index), `store` (overlay of changes, export feed and tokens), `schedule` (live
appointment windows by day), `writer` (the `TenantWriter` every change goes through), the writes
by area: `booking` (appointments, assignments, double-booking refusal, capacity), `sales`
(estimates), `pricebook` (SKU updates), `crm` (customer creation); `mutations` (the `Mutator`
that composes them, and the business day); `refusals` (why a request is refused), `state` (the
in-process handle), `routes` (HTTP), `errors` (`ApiErrorResponse`), `timefmt` (.NET-style
timestamps), `catalog` (the company's vocabulary).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from starlette.applications import Starlette

from perfect_catch.simulators.faults import FaultInjector
from perfect_catch.simulators.servicetitan.catalog import TIMEZONE
from perfect_catch.simulators.servicetitan.routes import build_servicetitan_app
from perfect_catch.simulators.servicetitan.state import (
    DEFAULT_TENANT_ID,
    EXPORT_PAGE_SIZE,
    ServiceTitanState,
)

__all__ = ["DEFAULT_TENANT_ID", "ServiceTitanState", "ServiceTitanSystem"]


class ServiceTitanSystem:
    """The ServiceTitan entry in the simulator host: API and auth under one prefix."""

    name = "servicetitan"
    prefix = "/servicetitan"

    def __init__(
        self,
        seed: int = 1,
        size: str = "small",
        faults: FaultInjector | None = None,
        tenant_ids: Sequence[int] = (DEFAULT_TENANT_ID,),
        export_page_size: int = EXPORT_PAGE_SIZE,
        rate_limit: int | None = None,
        recent_window_seconds: float = 600.0,
        anchor: date | str | None = None,
    ) -> None:
        self.state = ServiceTitanState(
            seed=seed,
            size=size,
            anchor=anchor,
            tenant_ids=tenant_ids,
            export_page_size=export_page_size,
            rate_limit=rate_limit,
            recent_window_seconds=recent_window_seconds,
        )
        self._faults = faults or FaultInjector(seed=seed)
        self.app: Starlette = build_servicetitan_app(self.state, self._faults)

    def attach_faults(self, faults: FaultInjector) -> None:
        """Use the host's shared injector (so `/_admin/faults` reaches this system)."""
        self._faults = faults
        self.app = build_servicetitan_app(self.state, faults)

    def advance_days(self, days: int) -> dict[str, object]:
        """The host-level advance: `days` business days of activity in every tenant."""
        return {"days": self.state.advance(days), **self.state.stats()}

    def env(self, base_url: str) -> dict[str, str]:
        root = f"{base_url}{self.prefix}"
        return {
            "ST_API_URL": root,
            "ST_AUTH_URL": f"{root}/auth",
            "ST_CLIENT_ID": self.state.client_id,
            "ST_CLIENT_SECRET": self.state.client_secret,
            "ST_APP_KEY": self.state.app_key,
            "ST_TENANT_IDS": ",".join(str(t) for t in self.state.tenant_ids),
            "ST_TIMEZONE": TIMEZONE,
        }
