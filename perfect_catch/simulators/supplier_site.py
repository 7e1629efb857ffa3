"""What the three supplier sites share: the simulated day, sessions, pacing and request log.

A supplier's site is not an API made for machines: it logs a visitor in with a form and a
session cookie that expires, and it shows a bot check (HTML sites) or answers 429 (Home Depot's
API) to a client that comes too fast. Faults come from the host's shared `FaultInjector`:
`supplier_login_refused`, `supplier_layout` ("drifted": renamed classes, moved price),
`supplier_bot_check_rps` (requests per second above which a client is taken for a bot),
`supplier_session_ttl_seconds`, and the usual latency (slow pages) and 429/5xx rates.
Every request is logged with its monotonic time, so a test can count requests per second.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from perfect_catch.simulators.faults import FaultInjector
from perfect_catch.simulators.supplier_catalog import (
    BRANCHES,
    Product,
    Supplier,
    SupplierCatalog,
    build_catalogs,
)
from perfect_catch.simulators.timeline import resolve_anchor

SESSION_TTL_SECONDS = 12 * 3600
#: How long a client taken for a bot keeps getting the bot check.
BLOCK_SECONDS = 60.0


@dataclass(frozen=True)
class LoggedRequest:
    at: float
    method: str
    path: str


class SupplierSite:
    """In-process state of one simulated supplier: catalog, day, sessions and traffic."""

    def __init__(
        self,
        supplier: Supplier,
        seed: int = 1,
        size: str = "small",
        anchor: date | str | None = None,
        username: str = "",
        password: str = "",
        catalog: SupplierCatalog | None = None,
    ) -> None:
        self.supplier = supplier
        self.seed = seed
        self.size = size
        self.anchor = resolve_anchor(anchor)
        self.catalog = catalog or build_catalogs(seed, size, self.anchor)[supplier]
        self.username = username
        self.password = password
        self.day = 0
        self.logins = 0
        self.requests: list[LoggedRequest] = []
        self.faults = FaultInjector(seed=seed)
        self._sessions: dict[str, float] = {}
        self._recent: deque[float] = deque()
        self._blocked_until = 0.0
        self.lock = threading.Lock()

    # --- world --------------------------------------------------------------------------------

    def advance(self, days: int) -> int:
        """Move this supplier's prices and stock `days` simulated days on."""
        with self.lock:
            self.day += max(0, days)
            return self.day

    @property
    def today(self) -> date:
        return self.catalog.effective(self.anchor, self.day)

    def price(self, product: Product) -> float:
        return self.catalog.price(product, self.day)

    def stock(self, product: Product) -> dict[str, int]:
        return {b: self.catalog.stock(product, b, self.day) for b in BRANCHES[self.supplier]}

    def search(self, query: str) -> list[Product]:
        """Parts whose SKU, manufacturer part or description contain every word of `query`."""
        words = [w for w in query.lower().split() if w]
        found = []
        for product in self.catalog.products:
            text = f"{product.sku} {product.manufacturer_part} {product.description}".lower()
            if all(w in text for w in words):
                found.append(product)
        return found

    # --- sessions -----------------------------------------------------------------------------

    def login(self, username: str, password: str) -> str | None:
        """A new session token for good credentials (unless logins are refused), else None."""
        if self.faults.config.supplier_login_refused:
            return None
        if not (
            secrets.compare_digest(username, self.username)
            and secrets.compare_digest(password, self.password)
        ):
            return None
        ttl = self.faults.config.supplier_session_ttl_seconds or SESSION_TTL_SECONDS
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.logins += 1
            self._sessions[token] = time.monotonic() + ttl
        return token

    def session_valid(self, token: str | None) -> bool:
        expiry = self._sessions.get(token or "")
        return expiry is not None and expiry > time.monotonic()

    def expire_sessions(self) -> None:
        with self.lock:
            self._sessions = dict.fromkeys(self._sessions, 0.0)

    # --- traffic ------------------------------------------------------------------------------

    def record(self, method: str, path: str) -> bool:
        """Log a request; True when it comes too fast (the client is taken for a bot)."""
        now = time.monotonic()
        limit = self.faults.config.supplier_bot_check_rps
        with self.lock:
            self.requests.append(LoggedRequest(now, method, path))
            if not limit:
                return False
            if now < self._blocked_until:
                return True
            self._recent.append(now)
            while self._recent and self._recent[0] <= now - 1.0:
                self._recent.popleft()
            if len(self._recent) > limit:
                self._blocked_until = now + BLOCK_SECONDS
                return True
            return False

    def unblock(self) -> None:
        with self.lock:
            self._blocked_until = 0.0
            self._recent.clear()

    @property
    def drifted(self) -> bool:
        return self.faults.config.supplier_layout == "drifted"


class SupplierSystem:
    """One supplier's entry on the simulator host: its site, its app, the host-level advance.
    Each supplier names itself, its account and its app builder, and the variables it prints."""

    name: ClassVar[str]
    prefix: ClassVar[str]
    vendor: ClassVar[str]
    env_prefix: ClassVar[str] = ""
    username: ClassVar[str] = ""
    password: ClassVar[str] = ""

    def __init__(
        self,
        seed: int = 1,
        size: str = "small",
        faults: FaultInjector | None = None,
        anchor: date | str | None = None,
    ) -> None:
        self.state = SupplierSite(self.vendor, seed, size, anchor, self.username, self.password)
        self.app = self.build_app(self.state, faults or FaultInjector(seed=seed))

    @staticmethod
    def build_app(site: SupplierSite, faults: FaultInjector) -> Any:
        raise NotImplementedError

    def attach_faults(self, faults: FaultInjector) -> None:
        self.app = self.build_app(self.state, faults)

    def advance_days(self, days: int) -> dict[str, object]:
        """The host-level advance: prices and stock move `days` simulated days on."""
        return {"day": self.state.advance(days), "date": self.state.today.isoformat()}

    def env(self, base_url: str) -> dict[str, str]:
        """What a client needs: `<ENV_PREFIX>_URL`, `_USERNAME` and `_PASSWORD` of the account."""
        return {
            f"{self.env_prefix}_URL": f"{base_url}{self.prefix}",
            f"{self.env_prefix}_USERNAME": self.state.username,
            f"{self.env_prefix}_PASSWORD": self.state.password,
        }
