"""The pricebook's tools: search it (words or code, best first) and change an item's price in
ServiceTitan, with a dry run by default so a person sees the effect before it happens."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from perfect_catch.tools import lookup, writeback
from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.line_matching import resolve_sku
from perfect_catch.tools.pricebook import KINDS, Kind, load_items, rank
from perfect_catch.tools.pricing import money, price_change
from perfect_catch.tools.registry import tool
from perfect_catch.warehouse.st_statuses import EstimateStatus

# Where each kind of item lives in ServiceTitan's pricebook API, and in the warehouse catalogue.
PRICEBOOK_PATHS: dict[Kind, str] = {
    "service": "services",
    "material": "materials",
    "equipment": "equipment",
}
_PRICEBOOK_ENTITIES: dict[Kind, str] = {
    "service": "pricebook_services",
    "material": "pricebook_materials",
    "equipment": "pricebook_equipment",
}


class SearchPricebookInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(description="Words to look for, e.g. 'variable speed pump'.", min_length=1)
    kinds: list[Kind] = Field(
        default_factory=lambda: ["service", "material", "equipment"],
        description="Which parts of the pricebook to search.",
    )
    limit: int = Field(10, ge=1, le=50)
    tenant_id: int | None = None


@tool("search_pricebook", read_only=True, idempotent=True, title="Search the pricebook")
def search_pricebook(context: ToolContext, params: SearchPricebookInput) -> dict[str, Any]:
    """Find pricebook services, materials and equipment by words or code, best match first,
    with price, member price, cost and (for services) hours. `match` is 0-1."""
    tenant_id = context.tenant(params.tenant_id)
    with context.engine.connect() as conn:
        items = load_items(conn, tenant_id, tuple(params.kinds))
    code = params.query.strip().lower()
    exact = [item for item in items if item.code.lower() == code]
    ranked = [(item, 1.0) for item in exact] + [
        pair for pair in rank(items, params.query, params.limit) if pair[0] not in exact
    ]
    results = [{**item.as_dict(), "match": match} for item, match in ranked[: params.limit]]
    answer: dict[str, Any] = {"items": results, "count": len(results)}
    if not results:
        answer["note"] = "nothing matches; try fewer or more general words"
    return answer


class PriceUpdateInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: int | str = Field(description="Pricebook item id, code or exact name.")
    kind: Kind | None = Field(None, description="service, material or equipment (if ambiguous).")
    price: float = Field(gt=0, description="New price in dollars.")
    member_price: float | None = Field(None, gt=0, description="New member price (optional).")
    dry_run: bool = Field(True, description="true (default): only show the effect.")
    allow_below_cost: bool = Field(False, description="Allow a price under the item's cost.")
    tenant_id: int | None = None


@tool(
    "update_pricebook_price",
    read_only=False,
    destructive=True,
    idempotent=True,
    open_world=True,
    title="Change a pricebook price",
)
def update_pricebook_price(context: ToolContext, params: PriceUpdateInput) -> dict[str, Any]:
    """Change the price (and optionally member price) of a pricebook item in ServiceTitan.

    dry_run=true (the default) changes nothing and shows the old and new price, the change,
    the margin over cost and how many open estimates use the item. Prices below cost are
    refused unless allow_below_cost. Confirm with the user, then call with dry_run=false.
    """
    tenant_id = context.tenant(params.tenant_id)
    kinds: tuple[Kind, ...] = (params.kind,) if params.kind else tuple(KINDS)
    with context.engine.connect() as conn:
        item = resolve_sku(load_items(conn, tenant_id, kinds), params.sku)
        open_estimates = lookup.rows(
            conn,
            """select count(distinct e.id) as n from servicetitan.st_estimate_items i
               join servicetitan.st_estimates e
                 on e.tenant_id = i.tenant_id and e.id = i.estimate_id
               where i.tenant_id = :t and i.sku_id = :s and i.deleted_at is null
                 and e.deleted_at is null and e.status = :open""",
            t=tenant_id,
            s=item.id,
            open=EstimateStatus.OPEN,
        )[0]["n"]
    effect = {
        **price_change(
            item, params.price, params.member_price, allow_below_cost=params.allow_below_cost
        ),
        "open_estimates_using_it": open_estimates,
        "note": "open estimates keep their prices; only new lines use the new price",
    }
    if params.dry_run:
        return {"dry_run": True, "changed": False, **effect}
    body: dict[str, Any] = {"price": float(effect["new_price"])}
    if params.member_price is not None:
        body["memberPrice"] = float(money(params.member_price))
    with context.servicetitan(tenant_id) as client:
        record = client.patch("pricebook", f"{PRICEBOOK_PATHS[item.kind]}/{item.id}", json=body)
        warehouse = writeback.reflect(
            context,
            client,
            tenant_id,
            entity=_PRICEBOOK_ENTITIES[item.kind],
            record=writeback.written_record(record),
            resync=(_PRICEBOOK_ENTITIES[item.kind],),
        )
    return {"dry_run": False, "changed": True, **effect, "warehouse": warehouse}
