"""A refresh of supplier prices: plan from the pricebook, fetch politely, store, re-map.

Each configured supplier is fetched on its own thread (politeness is per supplier, so the
three can run side by side), its records are stored in one transaction, and the material map
is rebuilt from everything stored. A supplier that fails (layout drift, refused login, bot
check) stores nothing from that run and is reported with its error; the others still count.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from perfect_catch.connectors.http import Clock
from perfect_catch.connectors.suppliers import configured_suppliers, open_client
from perfect_catch.connectors.suppliers.records import FetchPlan, SupplierError
from perfect_catch.connectors.suppliers.sessions import FileSessionStore, SessionStore
from perfect_catch.integrations.db import connection, fetch_all
from perfect_catch.integrations.supplier_mapping import MapResult, rebuild_map, vendor_parts
from perfect_catch.integrations.supplier_store import store_prices
from perfect_catch.settings import Settings

_LOCK = threading.Lock()


@dataclass
class SupplierRun:
    """What one supplier's refresh did, or the error that stopped it."""

    supplier: str
    records: int = 0
    history_rows: int = 0
    requests: int = 0
    logins: int = 0
    error: SupplierError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def line(self) -> str:
        if self.error is not None:
            return f"{self.supplier}: FAILED ({self.error})"
        return (
            f"{self.supplier}: {self.records} offer(s), {self.history_rows} price change(s), "
            f"{self.requests} request(s), {self.logins} login(s)"
        )


@dataclass
class RefreshReport:
    runs: list[SupplierRun] = field(default_factory=list)
    mapping: MapResult | None = None

    @property
    def failures(self) -> list[SupplierRun]:
        return [r for r in self.runs if not r.ok]

    def line(self) -> str:
        parts = [r.line() for r in self.runs]
        if self.mapping is not None:
            parts.append(self.mapping.line())
        return "; ".join(parts)


def session_store(settings: Settings) -> SessionStore:
    """Where sessions and back-offs persist between runs: a file under PERFECT_CATCH_HOME."""
    return FileSessionStore(Path(settings.perfect_catch_home) / "suppliers" / "sessions")


def fetch_plan(engine: sa.Engine, supplier: str) -> FetchPlan:
    """What to ask `supplier` for, from the active materials and the current map."""
    with connection(engine) as conn:
        materials = fetch_all(
            conn,
            "select id, coalesce(description, display_name) as description, raw "
            "from pricebook.materials where deleted_at is null and coalesce(active, true) "
            "order by tenant_id, id",
            (),
        )
        skus = fetch_all(
            conn,
            "select distinct sku from pricebook.material_vendor_map where vendor = %s order by 1",
            (supplier,),
        )
    part_numbers: list[str] = []
    fallbacks: list[tuple[str, tuple[str, ...]]] = []
    for material in materials:
        parts = vendor_parts(material["raw"] or {})
        part_numbers += [part for _, part in parts]
        if material["description"] and any(named == supplier for named, _ in parts):
            fallbacks.append((material["description"], tuple(part for _, part in parts)))
    return FetchPlan(
        part_numbers=tuple(dict.fromkeys(part_numbers)),
        skus=tuple(row["sku"] for row in skus),
        keywords_unless_found=tuple(fallbacks),
    )


def refresh_supplier(
    engine: sa.Engine,
    settings: Settings,
    supplier: str,
    sessions: SessionStore,
    *,
    clock: Clock | None = None,
    requests_per_second: float | None = None,
) -> SupplierRun:
    """Fetch one supplier and store what it returned; errors are reported, not raised."""
    run = SupplierRun(supplier)
    client = open_client(supplier, settings, sessions, clock, requests_per_second)
    try:
        records = client.fetch(fetch_plan(engine, supplier))
        stored = store_prices(engine, supplier, records)
        run.records, run.history_rows = stored.offers, stored.history_rows
    except SupplierError as error:
        run.error = error
    finally:
        run.requests = client.client.stats.api_calls
        run.logins = client.logins
        client.client.close()
    return run


def refresh_all(
    engine: sa.Engine,
    settings: Settings,
    suppliers: Sequence[str] | None = None,
    *,
    sessions: SessionStore | None = None,
    clock: Clock | None = None,
    requests_per_second: float | None = None,
) -> RefreshReport:
    """Refresh `suppliers` (default: every configured one) side by side, then re-map."""
    chosen = list(suppliers) if suppliers is not None else configured_suppliers(settings)
    store = sessions or session_store(settings)
    report = RefreshReport()
    with _LOCK, ThreadPoolExecutor(max_workers=max(1, len(chosen))) as pool:
        futures = [
            pool.submit(
                refresh_supplier,
                engine,
                settings,
                supplier,
                store,
                clock=clock,
                requests_per_second=requests_per_second,
            )
            for supplier in chosen
        ]
        report.runs = [f.result() for f in futures]
    s = settings.suppliers
    report.mapping = rebuild_map(
        engine, min_score=s.supplier_fuzzy_min_score, overrides_path=s.supplier_mapping_overrides
    )
    return report
