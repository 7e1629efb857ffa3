"""Tools on existing estimates: read one with its items, totals and margin; add pricebook items
to an open one; sell or dismiss it. Writes go to ServiceTitan and are reflected in the warehouse
at once (`writeback`), so the answer shows the estimate as it now is."""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, model_validator

from perfect_catch.tools import lookup, writeback
from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.errors import ConflictError, NotFoundError
from perfect_catch.tools.line_matching import resolve_sku
from perfect_catch.tools.pricebook import load_items
from perfect_catch.tools.pricing import money
from perfect_catch.tools.registry import tool
from perfect_catch.warehouse.st_statuses import EstimateStatus


class EstimateIdInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    estimate_id: int = Field(description="ServiceTitan estimate id.")
    tenant_id: int | None = None


def estimate_details(conn: sa.Connection, tenant_id: int, estimate_id: int) -> dict | None:
    found = lookup.rows(
        conn,
        """select e.id, e.name, e.status, e.review_status, e.job_id, e.job_number,
                  e.customer_id, c.name as customer_name, e.location_id,
                  e.raw ->> 'summary' as summary, e.subtotal, e.tax,
                  e.subtotal + coalesce(e.tax, 0) as total, e.sold_on, e.sold_by,
                  t.name as sold_by_name, e.created_on, e.modified_on
           from servicetitan.st_estimates e
           left join servicetitan.st_customers c
             on c.tenant_id = e.tenant_id and c.id = e.customer_id
           left join servicetitan.st_technicians t
             on t.tenant_id = e.tenant_id and t.id = e.sold_by
           where e.tenant_id = :t and e.id = :e and e.deleted_at is null""",
        t=tenant_id,
        e=estimate_id,
    )
    if not found:
        return None
    estimate = found[0]
    estimate["items"] = lookup.rows(
        conn,
        """select id, sku_id, sku_name, sku_type, description, qty, unit_rate, total,
                  unit_cost, total_cost
           from servicetitan.st_estimate_items
           where tenant_id = :t and estimate_id = :e and deleted_at is null order by id""",
        t=tenant_id,
        e=estimate_id,
    )
    cost = sum((i["total_cost"] or 0) for i in estimate["items"])
    estimate["total_cost"] = cost
    subtotal = estimate["subtotal"] or 0
    estimate["gross_margin"] = round((subtotal - cost) / subtotal, 3) if subtotal else None
    return estimate


@tool("get_estimate_details", read_only=True, idempotent=True, title="Get an estimate")
def get_estimate_details(context: ToolContext, params: EstimateIdInput) -> dict[str, Any]:
    """An estimate with its customer, job, status, line items (SKU, quantity, price, cost),
    totals and gross margin. Reads the warehouse; an estimate not synced yet is fetched from
    ServiceTitan."""
    tenant_id = context.tenant(params.tenant_id)
    with context.engine.connect() as conn:
        estimate = estimate_details(conn, tenant_id, params.estimate_id)
    path = f"estimates/{params.estimate_id}"
    if estimate is None and writeback.fetch(context, tenant_id, "estimates", "sales", path):
        with context.engine.connect() as conn:
            estimate = estimate_details(conn, tenant_id, params.estimate_id)
    if estimate is None:
        raise NotFoundError(f"estimate {params.estimate_id} does not exist")
    return estimate


def _open_estimate(conn: sa.Connection, tenant_id: int, estimate_id: int) -> dict[str, Any]:
    found = lookup.rows(
        conn,
        """select id, status, name, customer_id from servicetitan.st_estimates
           where tenant_id = :t and id = :e and deleted_at is null""",
        t=tenant_id,
        e=estimate_id,
    )
    if not found:
        raise NotFoundError(f"estimate {estimate_id} does not exist")
    if found[0]["status"] != EstimateStatus.OPEN:
        raise ConflictError(
            f"estimate {estimate_id} is {found[0]['status']}, not {EstimateStatus.OPEN}"
        )
    return found[0]


# --- add items --------------------------------------------------------------------------------


class EstimateLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: int | str = Field(description="Pricebook item id, code (SVC-303) or exact name.")
    quantity: float = Field(1.0, gt=0, le=10_000)
    unit_price: float | None = Field(
        None, ge=0, description="Override the pricebook price (leave empty to use it)."
    )
    description: str | None = None


class AddItemsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    estimate_id: int
    items: list[EstimateLine] = Field(min_length=1, max_length=50)
    tenant_id: int | None = None


@tool("add_items_to_estimate", read_only=False, open_world=True, title="Add estimate items")
def add_items_to_estimate(context: ToolContext, params: AddItemsInput) -> dict[str, Any]:
    """Add pricebook items to an open estimate in ServiceTitan, priced from the pricebook
    unless a unit price is given. Every SKU is checked before anything is sent."""
    tenant_id = context.tenant(params.tenant_id)
    with context.engine.connect() as conn:
        _open_estimate(conn, tenant_id, params.estimate_id)
        items = load_items(conn, tenant_id)
    resolved = [(line, resolve_sku(items, line.sku)) for line in params.items]
    added: list[dict[str, Any]] = []
    with context.servicetitan(tenant_id) as client:
        try:
            for line, item in resolved:
                price = line.unit_price if line.unit_price is not None else item.price
                body = {
                    "skuId": item.id,
                    "quantity": line.quantity,
                    "unitPrice": float(money(price)),
                    "description": line.description or item.name,
                }
                answer = client.put("sales", f"estimates/{params.estimate_id}/items", json=body)
                added.append({"sku_id": item.id, "name": item.name, "item": answer})
        finally:
            warehouse = writeback.reflect(context, client, tenant_id, resync=("estimates",))
    with context.engine.connect() as conn:
        estimate = estimate_details(conn, tenant_id, params.estimate_id)
    return {"added": added, "estimate": estimate, "warehouse": warehouse}


# --- sell / dismiss ---------------------------------------------------------------------------


class EstimateStatusInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    estimate_id: int
    action: Literal["sell", "dismiss"] = Field(description="Sell (customer accepted) or dismiss.")
    sold_by: int | str | None = Field(
        None, description="Technician id or name who sold it (required to sell)."
    )
    tenant_id: int | None = None

    @model_validator(mode="after")
    def _seller(self) -> EstimateStatusInput:
        if self.action == "sell" and self.sold_by is None:
            raise ValueError("sold_by is required to sell an estimate")
        return self


@tool(
    "update_estimate_status",
    read_only=False,
    destructive=True,
    open_world=True,
    title="Sell or dismiss an estimate",
)
def update_estimate_status(context: ToolContext, params: EstimateStatusInput) -> dict[str, Any]:
    """Mark an open estimate sold (with the technician who sold it) or dismissed in
    ServiceTitan. This cannot be undone from here: confirm with the user first."""
    tenant_id = context.tenant(params.tenant_id)
    with context.engine.connect() as conn:
        _open_estimate(conn, tenant_id, params.estimate_id)
        seller = (
            lookup.resolve(conn, tenant_id, lookup.TECHNICIANS, params.sold_by)
            if params.sold_by is not None
            else None
        )
    with context.servicetitan(tenant_id) as client:
        if params.action == "sell":
            assert seller is not None
            record = client.put(
                "sales", f"estimates/{params.estimate_id}/sell", json={"soldBy": seller["id"]}
            )
        else:
            record = client.put("sales", f"estimates/{params.estimate_id}/dismiss", json={})
        warehouse = writeback.reflect(
            context,
            client,
            tenant_id,
            entity="estimates",
            record=writeback.written_record(record),
            resync=("estimates",),
        )
    with context.engine.connect() as conn:
        estimate = estimate_details(conn, tenant_id, params.estimate_id)
    return {
        "estimate_id": params.estimate_id,
        "status": (estimate or {}).get("status"),
        "sold_by": seller["name"] if seller else None,
        "estimate": estimate,
        "warehouse": warehouse,
    }
