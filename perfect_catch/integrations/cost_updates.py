"""Pushing supplier costs back to the ServiceTitan pricebook — only when a person asks.

`propose` turns the cost drift mart into a batch of proposed changes (materials whose best
supplier price differs from the pricebook cost by at least the threshold) and stores it; nothing
is sent. `apply` patches each material's `cost` and the cost of the vendor entry that is the
supplier (`primaryVendor`/`otherVendors`, as the pricebook v2 API takes them), recording the
values it replaced the first time; a material that already has the new values is not patched,
so applying a batch twice changes nothing the second time. `rollback` puts the recorded values
back. Each patched record is stored in the warehouse at once, through the sync's loader.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa

from perfect_catch.connectors.servicetitan import ServiceTitanClient
from perfect_catch.integrations.db import connection, fetch_all, fetch_one
from perfect_catch.integrations.supplier_mapping import supplier_of
from perfect_catch.warehouse.catalog import get_entity
from perfect_catch.warehouse.loading.load import load_records

ClientFactory = Callable[[int], ServiceTitanClient]
_CENT = Decimal("0.01")


class CostUpdateError(ValueError):
    """A batch cannot be applied or rolled back as asked; the message says why."""


@dataclass(frozen=True)
class ProposedChange:
    material_id: int
    material_name: str | None
    vendor: str
    sku: str
    old_cost: Decimal | None
    new_cost: Decimal
    difference_pct: Decimal | None
    match_quality: str | None


@dataclass
class Proposal:
    batch_id: str | None
    tenant_id: int
    threshold_pct: float
    changes: list[ProposedChange] = field(default_factory=list)


@dataclass
class BatchResult:
    batch_id: str
    changed: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)

    def line(self, verb: str) -> str:
        return (
            f"batch {self.batch_id}: {len(self.changed)} material(s) {verb}, "
            f"{len(self.unchanged)} already as wanted"
        )


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(_CENT)


def propose(engine: sa.Engine, tenant_id: int, threshold_pct: float) -> Proposal:
    """Store a batch of the cost changes at or above `threshold_pct` (none: no batch)."""
    with connection(engine) as conn:
        rows = fetch_all(
            conn,
            "select material_id, material_name, best_vendor, best_vendor_sku, pricebook_cost, "
            "best_price, difference_pct, match_quality from marts.material_cost_drift "
            "where tenant_id = %s and is_carried and best_price > 0 "
            "and (pricebook_cost is null or pricebook_cost <= 0 "
            "     or abs(difference_pct) >= %s) "
            "order by abs(coalesce(difference_pct, 100)) desc, material_id",
            (tenant_id, threshold_pct),
        )
        proposal = Proposal(None, tenant_id, threshold_pct)
        proposal.changes = [
            ProposedChange(
                r["material_id"],
                r["material_name"],
                r["best_vendor"],
                r["best_vendor_sku"],
                r["pricebook_cost"],
                _money(r["best_price"]),
                r["difference_pct"],
                r["match_quality"],
            )
            for r in rows
        ]
        if not proposal.changes:
            return proposal
        batch_id = f"cb-{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
        with conn.transaction():
            conn.execute(
                "insert into pricebook.cost_update_batches (id, tenant_id, threshold_pct) "
                "values (%s, %s, %s)",
                (batch_id, tenant_id, threshold_pct),
            )
            with conn.cursor() as cur:
                cur.executemany(
                    "insert into pricebook.cost_updates (batch_id, material_id, vendor, sku, "
                    "old_cost, new_cost) values (%s, %s, %s, %s, %s, %s)",
                    [
                        (batch_id, c.material_id, c.vendor, c.sku, c.old_cost, c.new_cost)
                        for c in proposal.changes
                    ],
                )
        proposal.batch_id = batch_id
    return proposal


def _batch(conn: Any, batch_id: str) -> dict[str, Any]:
    batch = fetch_one(
        conn, "select * from pricebook.cost_update_batches where id = %s", (batch_id,)
    )
    if batch is None:
        raise CostUpdateError(f"there is no cost update batch {batch_id!r}")
    return batch


def _vendor_request(entry: dict[str, Any], cost: Any | None = None) -> dict[str, Any]:
    """A vendor entry of a record as the `SkuVendorRequest` the API takes back."""
    return {
        "vendorId": entry["vendorId"],
        "memo": entry.get("memo"),
        "vendorPart": entry.get("vendorPart"),
        "cost": float(entry.get("cost") or 0) if cost is None else float(cost),
        "active": bool(entry.get("active", True)),
    }


def _wanted(record: dict[str, Any], vendor: str, cost: Decimal) -> dict[str, Any]:
    """The PATCH body that gives `record` the cost `cost`, at the vendor entry too."""
    body: dict[str, Any] = {"cost": float(cost)}
    primary = record.get("primaryVendor")
    if isinstance(primary, dict) and supplier_of(primary.get("vendorName")) == vendor:
        body["primaryVendor"] = _vendor_request(primary, cost)
    others = [v for v in record.get("otherVendors") or [] if isinstance(v, dict)]
    if any(supplier_of(v.get("vendorName")) == vendor for v in others):
        body["otherVendors"] = [
            _vendor_request(v, cost if supplier_of(v.get("vendorName")) == vendor else None)
            for v in others
        ]
    return body


def _restore_body(before: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"cost": before.get("cost")}
    if isinstance(before.get("primaryVendor"), dict):
        body["primaryVendor"] = _vendor_request(before["primaryVendor"])
    if before.get("otherVendors"):
        body["otherVendors"] = [_vendor_request(v) for v in before["otherVendors"]]
    return body


def _already(record: dict[str, Any], body: dict[str, Any]) -> bool:
    """Whether `record` already carries every value of `body` (so no PATCH is needed)."""
    if body.get("cost") is not None and _money(record.get("cost") or 0) != _money(body["cost"]):
        return False
    current = [record.get("primaryVendor") or {}, *(record.get("otherVendors") or [])]
    wanted = [body.get("primaryVendor") or {}, *(body.get("otherVendors") or [])]
    for entry in wanted:
        if not entry:
            continue
        same = next((c for c in current if c.get("vendorId") == entry["vendorId"]), None)
        if same is None or _money(same.get("cost") or 0) != _money(entry["cost"]):
            return False
    return True


def _store(engine: sa.Engine, tenant_id: int, record: dict[str, Any]) -> None:
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        with conn.transaction():  # type: ignore[union-attr]
            load_records(
                conn,  # type: ignore[arg-type]
                get_entity("pricebook_materials"),
                tenant_id,
                [record],
                run_id="supplier-costs",
            )
        conn.commit()  # type: ignore[union-attr]
    finally:
        raw.close()


def apply(engine: sa.Engine, batch_id: str, clients: ClientFactory) -> BatchResult:
    """Patch every material of the batch to its new cost; idempotent."""
    result = BatchResult(batch_id)
    with connection(engine) as conn:
        batch = _batch(conn, batch_id)
        if batch["status"] == "rolled_back":
            raise CostUpdateError(f"batch {batch_id} was rolled back; propose a new batch")
        updates = fetch_all(
            conn,
            "select * from pricebook.cost_updates where batch_id = %s order by material_id",
            (batch_id,),
        )
        tenant_id = batch["tenant_id"]
        client = clients(tenant_id)
        try:
            for update in updates:
                mid = update["material_id"]
                record = client.get("pricebook", f"materials/{mid}")
                body = _wanted(record, update["vendor"], _money(update["new_cost"]))
                if update["before"] is None:
                    before = {k: record.get(k) for k in ("cost", "primaryVendor", "otherVendors")}
                    conn.execute(
                        "update pricebook.cost_updates set before = %s::jsonb "
                        "where batch_id = %s and material_id = %s",
                        (orjson.dumps(before).decode(), batch_id, mid),
                    )
                if _already(record, body):
                    result.unchanged.append(mid)
                else:
                    client.patch("pricebook", f"materials/{mid}", json=body)
                    _store(engine, tenant_id, client.get("pricebook", f"materials/{mid}"))
                    result.changed.append(mid)
                conn.execute(
                    "update pricebook.cost_updates set applied_at = coalesce(applied_at, now()) "
                    "where batch_id = %s and material_id = %s",
                    (batch_id, mid),
                )
        finally:
            client.close()
        conn.execute(
            "update pricebook.cost_update_batches set status = 'applied', "
            "applied_at = coalesce(applied_at, now()) where id = %s",
            (batch_id,),
        )
    return result


def rollback(engine: sa.Engine, batch_id: str, clients: ClientFactory) -> BatchResult:
    """Put back the values the batch replaced; idempotent."""
    result = BatchResult(batch_id)
    with connection(engine) as conn:
        batch = _batch(conn, batch_id)
        updates = fetch_all(
            conn,
            "select * from pricebook.cost_updates where batch_id = %s and before is not null "
            "order by material_id",
            (batch_id,),
        )
        client = clients(batch["tenant_id"])
        try:
            for update in updates:
                mid = update["material_id"]
                before = update["before"]
                body = _restore_body(before)
                record = client.get("pricebook", f"materials/{mid}")
                if _already(record, body):
                    result.unchanged.append(mid)
                else:
                    client.patch("pricebook", f"materials/{mid}", json=body)
                    _store(engine, batch["tenant_id"], client.get("pricebook", f"materials/{mid}"))
                    result.changed.append(mid)
                conn.execute(
                    "update pricebook.cost_updates set rolled_back_at = "
                    "coalesce(rolled_back_at, now()) where batch_id = %s and material_id = %s",
                    (batch_id, mid),
                )
        finally:
            client.close()
        conn.execute(
            "update pricebook.cost_update_batches set status = 'rolled_back', "
            "rolled_back_at = coalesce(rolled_back_at, now()) where id = %s",
            (batch_id,),
        )
    return result


def client_factory(settings: Any) -> ClientFactory:
    """ServiceTitan clients from the settings, one per tenant asked for."""

    def build(tenant_id: int) -> ServiceTitanClient:
        return ServiceTitanClient.from_settings(settings, tenant_id)

    return build


def batch_changes(engine: sa.Engine, batch_id: str) -> list[dict[str, Any]]:
    """The changes of a batch with their state, for printing and for the MCP tools."""
    with connection(engine) as conn:
        _batch(conn, batch_id)
        return fetch_all(
            conn,
            "select material_id, vendor, sku, old_cost, new_cost, applied_at, rolled_back_at "
            "from pricebook.cost_updates where batch_id = %s order by material_id",
            (batch_id,),
        )
