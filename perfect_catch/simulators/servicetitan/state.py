"""In-process handle on the simulated ServiceTitan: tenants, clock, credentials and the driver.

Tests and the demo use this object directly (ground truth, targeted mutations, advancing time);
the HTTP routes use the same object, so what one changes the other sees.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from perfect_catch.simulators.servicetitan.mutations import Mutator
from perfect_catch.simulators.servicetitan.records import GENERATORS
from perfect_catch.simulators.servicetitan.records.shared import Record
from perfect_catch.simulators.servicetitan.store import SimClock, TenantStore
from perfect_catch.simulators.servicetitan.timefmt import (
    TICKS_PER_DAY,
    TICKS_PER_SECOND,
    datetime_of,
)
from perfect_catch.simulators.servicetitan.universe import Universe, clock_start
from perfect_catch.simulators.timeline import resolve_anchor

DEFAULT_TENANT_ID = 1_000_001
CLIENT_ID = "cid.perfect-catch-sim"
CLIENT_SECRET = "cs1.perfect-catch-sim-secret"
APP_KEY = "ak1.perfect-catch-sim"
TOKEN_TTL_SECONDS = 900
EXPORT_PAGE_SIZE = 5000
BUSINESS_DAY_START_HOUR = 15  # 08:00 in Arizona (UTC-7)
BUSINESS_DAY_TICKS = 9 * 3600 * TICKS_PER_SECOND


class ServiceTitanState:
    """Everything the ServiceTitan simulator knows, for one seed and size."""

    def __init__(
        self,
        seed: int = 1,
        size: str = "small",
        tenant_ids: Sequence[int] = (DEFAULT_TENANT_ID,),
        export_page_size: int = EXPORT_PAGE_SIZE,
        rate_limit: int | None = None,
        recent_window_seconds: float = 600.0,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        app_key: str = APP_KEY,
        anchor: date | str | None = None,
    ) -> None:
        if rate_limit is None:
            rate_limit = int(os.environ.get("SIM_ST_RATE_LIMIT", "60"))
        self.seed = seed
        self.size = size
        self.export_page_size = export_page_size
        self.rate_limit = rate_limit
        self.recent_window_ticks = int(recent_window_seconds * TICKS_PER_SECOND)
        self.client_id, self.client_secret, self.app_key = client_id, client_secret, app_key
        self.lock = threading.RLock()
        self.anchor = resolve_anchor(anchor)
        self.clock = SimClock(clock_start(self.anchor))
        self.days_simulated = 0
        self.tenants: dict[int, TenantStore] = {}
        self.mutators: dict[int, Mutator] = {}
        for tenant_id in tenant_ids:
            universe = Universe(seed, tenant_id, size, self.anchor)
            store = TenantStore(universe, self.clock, self.lock)
            self.tenants[tenant_id] = store
            self.mutators[tenant_id] = Mutator(store)
        self._tokens: dict[str, float] = {}
        # Credentials of one tenant (a shop that granted the app access on its own): their tokens
        # open that tenant only, as in production.
        self.tenant_clients: dict[str, tuple[str, int]] = {}
        self._token_tenants: dict[str, int] = {}
        #: The client id of every token request, in order (what a test asserts on).
        self.token_clients: list[str] = []
        self._requests: dict[int, deque[float]] = {t: deque() for t in self.tenants}

    @property
    def tenant_ids(self) -> list[int]:
        return list(self.tenants)

    def store(self, tenant_id: int | None = None) -> TenantStore:
        return self.tenants[self.tenant_ids[0] if tenant_id is None else tenant_id]

    def mutator(self, tenant_id: int | None = None) -> Mutator:
        return self.mutators[self.tenant_ids[0] if tenant_id is None else tenant_id]

    # --- ground truth -------------------------------------------------------------------------

    def records(self, entity: str, tenant_id: int | None = None) -> Iterator[Record]:
        """Every current record of `entity`, exactly as a full export returns it, feed order."""
        if entity not in GENERATORS:
            raise KeyError(f"unknown entity {entity!r}; known: {', '.join(GENERATORS)}")
        return self.store(tenant_id).records(entity)

    def ground_truth(self, tenant_id: int, entity: str) -> Iterator[Record]:
        """`records` with the (tenant, entity) argument order of the sync code."""
        return self.records(entity, tenant_id)

    def get(self, entity: str, record_id: int, tenant_id: int | None = None) -> Record | None:
        return self.store(tenant_id).get(entity, record_id)

    def now(self) -> str:
        return datetime_of(self.clock.now).isoformat()

    # --- targeted changes ---------------------------------------------------------------------

    def touch(
        self,
        entity: str,
        ids: Sequence[int],
        tenant_id: int | None = None,
        same_instant: bool = False,
        **changes: Any,
    ) -> list[Record]:
        """New versions of records (optionally with field changes), each with a new modifiedOn."""
        with self.lock:
            mutator = self.mutator(tenant_id)
            if same_instant:
                when = self.clock.tick()
                return [mutator.touch(entity, i, changes, when) for i in ids]
            return [mutator.touch(entity, i, changes) for i in ids]

    def modify(
        self, entity: str, record_id: int, tenant_id: int | None = None, **changes: Any
    ) -> Record:
        return self.touch(entity, [record_id], tenant_id, **changes)[0]

    def make_malformed(
        self,
        entity: str,
        record_id: int,
        kind: str = "bad_modified_on",
        tenant_id: int | None = None,
    ) -> Record:
        """Serve a broken version: kind is bad_modified_on, missing_id, nul_char or wrong_type."""
        with self.lock:
            return self.mutator(tenant_id).make_malformed(entity, record_id, kind)

    def create_tied(self, entity: str, count: int, tenant_id: int | None = None) -> list[Record]:
        """Create `count` new records that share one exact modifiedOn."""
        with self.lock:
            return self.mutator(tenant_id).create_tied(entity, count)

    # --- time ---------------------------------------------------------------------------------

    def advance(self, days: int = 1) -> list[dict[str, int]]:
        """Simulate `days` business days (weekends are skipped) in every tenant."""
        return [self.simulate_business_day() for _ in range(days)]

    def simulate_business_day(self) -> dict[str, int]:
        with self.lock:
            day = self.clock.now // TICKS_PER_DAY + 1
            while datetime_of(day * TICKS_PER_DAY).weekday() >= 5:
                day += 1
            self.clock.now = max(
                self.clock.now,
                day * TICKS_PER_DAY + BUSINESS_DAY_START_HOUR * 3600 * TICKS_PER_SECOND,
            )
            self.days_simulated += 1
            # Spread the day's changes over working hours instead of a burst at opening time.
            scale = max(
                1, max(s.universe.counts["customers"] for s in self.tenants.values()) // 1600
            )
            self.clock.step = BUSINESS_DAY_TICKS // (60 * scale * len(self.tenants)) + 1_234_567
            totals: dict[str, int] = {}
            try:
                for mutator in self.mutators.values():
                    for key, value in mutator.business_day(self.days_simulated).items():
                        totals[key] = totals.get(key, 0) + value
            finally:
                self.clock.step = SimClock.TICK
            return totals

    # --- auth and rate limits -----------------------------------------------------------------

    def add_tenant(self, tenant_id: int, client_id: str, client_secret: str) -> None:
        """A tenant (created if new) with credentials of its own, valid for it alone."""
        with self.lock:
            if tenant_id not in self.tenants:
                universe = Universe(self.seed, tenant_id, self.size, self.anchor)
                store = TenantStore(universe, self.clock, self.lock)
                self.tenants[tenant_id] = store
                self.mutators[tenant_id] = Mutator(store)
                self._requests[tenant_id] = deque()
            self.tenant_clients[client_id] = (client_secret, tenant_id)

    def client_tenant(self, client_id: str, client_secret: str) -> int | None | bool:
        """None for the app's shared credentials (every tenant), the tenant id for a tenant's
        own credentials, False for unknown ones."""
        if client_id == self.client_id and client_secret == self.client_secret:
            return None
        known = self.tenant_clients.get(client_id)
        if known is not None and known[0] == client_secret:
            return known[1]
        return False

    def issue_token(self, ttl_seconds: float, tenant_id: int | None = None) -> str:
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self.lock:
            self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
            self._tokens[token] = now + ttl_seconds
            if tenant_id is not None:
                self._token_tenants[token] = tenant_id
        return token

    def token_valid(self, token: str, tenant_id: int | None = None) -> bool:
        expiry = self._tokens.get(token)
        if expiry is None or expiry <= time.monotonic():
            return False
        bound = self._token_tenants.get(token)
        return bound is None or tenant_id is None or bound == tenant_id

    def expire_tokens(self) -> None:
        """Make every issued token expired now (clients must fetch a new one)."""
        with self.lock:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    def rate_limited(self, tenant_id: int) -> int:
        """Seconds to wait if `tenant_id` is over its per-second limit, else 0."""
        if self.rate_limit <= 0:
            return 0
        now = time.monotonic()
        window = self._requests.setdefault(tenant_id, deque())
        with self.lock:
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= self.rate_limit:
                return max(1, int(window[0] + 1.0 - now + 0.999))
            window.append(now)
        return 0

    def stats(self) -> dict[str, Any]:
        return {
            "now": self.now(),
            "daysSimulated": self.days_simulated,
            "tenants": [store.stats() for store in self.tenants.values()],
        }
