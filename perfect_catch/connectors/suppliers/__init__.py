"""Clients of the shop's suppliers (Pool360, CED, Home Depot), one per supplier, on httpx.

`configured_clients(settings, ...)` opens a client for every supplier whose credentials are
set; each has `fetch(plan) -> list[SupplierPrice]`, `logins`, and its `client` (the polite
session, with call statistics). See `records` for the record and the errors.
"""

from __future__ import annotations

from typing import Protocol

from perfect_catch.connectors.http import Clock
from perfect_catch.connectors.suppliers.ced import CedClient
from perfect_catch.connectors.suppliers.homedepot import HomeDepotClient
from perfect_catch.connectors.suppliers.polite import PoliteClient
from perfect_catch.connectors.suppliers.pool360 import Pool360Client
from perfect_catch.connectors.suppliers.records import FetchPlan, SupplierPrice
from perfect_catch.connectors.suppliers.sessions import SessionStore
from perfect_catch.connectors.suppliers.site import is_bot_check
from perfect_catch.settings import Settings

SUPPLIERS = ("Pool360", "CED", "Home Depot")


class SupplierClient(Protocol):
    client: PoliteClient

    @property
    def logins(self) -> int: ...

    def fetch(self, plan: FetchPlan) -> list[SupplierPrice]: ...


def configured_suppliers(settings: Settings) -> list[str]:
    """The suppliers whose credentials are set, in the order they are refreshed."""
    s = settings.suppliers
    found = []
    if s.pool360_username and s.pool360_password.get_secret_value():
        found.append("Pool360")
    if s.ced_username and s.ced_password.get_secret_value():
        found.append("CED")
    if s.homedepot_api_key.get_secret_value():
        found.append("Home Depot")
    return found


def open_client(
    supplier: str,
    settings: Settings,
    sessions: SessionStore,
    clock: Clock | None = None,
    requests_per_second: float | None = None,
) -> SupplierClient:
    """A client of `supplier` from the settings (credentials must be set)."""
    s = settings.suppliers
    rate = requests_per_second or s.supplier_requests_per_second
    common = {
        "requests_per_second": rate,
        "timeout": settings.http_timeout_seconds,
        "clock": clock,
        "sessions": sessions,
    }
    if supplier == "Pool360":
        password = s.pool360_password.get_secret_value()
        polite = PoliteClient(
            supplier, s.pool360_url, secrets=(password,), is_bot_check=is_bot_check, **common
        )
        return Pool360Client(polite, s.pool360_username, password)
    if supplier == "CED":
        password = s.ced_password.get_secret_value()
        polite = PoliteClient(
            supplier, s.ced_url, secrets=(password,), is_bot_check=is_bot_check, **common
        )
        return CedClient(polite, s.ced_username, password)
    if supplier == "Home Depot":
        key = s.homedepot_api_key.get_secret_value()
        # An API, not a site: no robots.txt to read; 429s are retried after Retry-After.
        polite = PoliteClient(
            supplier, s.homedepot_api_url, secrets=(key,), use_robots=False, **common
        )
        return HomeDepotClient(polite, key, s.homedepot_store_id)
    raise ValueError(f"unknown supplier {supplier!r}; known: {', '.join(SUPPLIERS)}")
