"""Supplier tools: current supplier prices, cost drift against the pricebook, and pricebook cost
updates — proposed as a batch first, sent to ServiceTitan only with confirm=true."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from perfect_catch.integrations import cost_updates
from perfect_catch.tools import lookup
from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.errors import ToolInputError, ToolUnavailable
from perfect_catch.tools.registry import tool

Vendor = Literal["Pool360", "CED", "Home Depot"]


class SupplierPricesInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str | None = Field(
        None, description="Words or a part number to look for, e.g. 'GFCI' or 'POO-10009'."
    )
    material_id: int | None = Field(None, description="Only the parts mapped to this material.")
    vendor: Vendor | None = Field(None, description="Only this supplier.")
    history: bool = Field(False, description="Also list each part's recorded price changes.")
    limit: int = Field(25, ge=1, le=200)
    tenant_id: int | None = None


@tool("supplier_prices", read_only=True, idempotent=True, title="Current supplier prices")
def supplier_prices(context: ToolContext, params: SupplierPricesInput) -> dict[str, Any]:
    """Current prices of supplier parts (Pool360, CED, Home Depot) as last fetched: price,
    unit, availability, branch, when seen, and the pricebook materials each part is mapped to
    (with how: vendor part, manufacturer part, fuzzy with a score, or override). history=true
    adds each part's price changes, newest first."""
    tenant_id = context.tenant(params.tenant_id)
    pattern = f"%{params.query.strip()}%" if params.query and params.query.strip() else None
    with context.engine.connect() as conn:
        offers = lookup.rows(
            conn,
            """select p.vendor, p.sku, p.manufacturer_part, p.description, p.unit, p.price,
                      p.availability, p.branch, p.fetched_at as last_seen_at,
                      coalesce(json_agg(json_build_object(
                          'material_id', m.material_id, 'match_method', m.match_method,
                          'score', m.score)) filter (where m.material_id is not null),
                          '[]') as materials
               from pricebook.vendor_products p
               left join pricebook.material_vendor_map m
                 on m.vendor = p.vendor and m.sku = p.sku and m.tenant_id = :t
               where (cast(:vendor as text) is null or p.vendor = :vendor)
                 and (cast(:pattern as text) is null or p.sku ilike :pattern
                      or p.manufacturer_part ilike :pattern or p.description ilike :pattern)
                 and (cast(:material as bigint) is null or m.material_id = :material)
               group by p.vendor, p.sku
               order by p.vendor, p.description limit :limit""",
            t=tenant_id,
            vendor=params.vendor,
            pattern=pattern,
            material=params.material_id,
            limit=params.limit,
        )
        if params.history:
            for offer in offers:
                offer["history"] = lookup.rows(
                    conn,
                    """select price, availability, fetched_at from pricebook.vendor_prices
                       where vendor = :v and sku = :s order by id desc limit 20""",
                    v=offer["vendor"],
                    s=offer["sku"],
                )
    answer: dict[str, Any] = {"parts": offers, "count": len(offers)}
    if not offers:
        answer["note"] = (
            "no supplier part matches; supplier prices may not have been fetched yet "
            "(perfect-catch suppliers refresh)"
        )
    return answer


class CostDriftInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_abs_pct: float = Field(
        0, ge=0, description="Only materials whose supplier price differs by at least this %."
    )
    include_uncarried: bool = Field(
        True, description="Also list materials no supplier is known to carry."
    )
    limit: int = Field(50, ge=1, le=500)
    tenant_id: int | None = None


@tool("cost_drift", read_only=True, idempotent=True, title="Pricebook cost vs supplier prices")
def cost_drift(context: ToolContext, params: CostDriftInput) -> dict[str, Any]:
    """Per pricebook material: its cost in ServiceTitan against the best current supplier price
    (which supplier, which part), the difference in dollars and percent, when that price was
    last seen and whether the match is exact or fuzzy. Largest drift first; materials no
    supplier carries are listed separately."""
    tenant_id = context.tenant(params.tenant_id)
    with context.engine.connect() as conn:
        drift = lookup.rows(
            conn,
            """select material_id, sku_code, material_name, pricebook_cost, best_price,
                      best_vendor, best_vendor_sku, best_availability, difference,
                      difference_pct, last_seen_at, match_quality, match_score, vendors_carrying
               from marts.material_cost_drift
               where tenant_id = :t and is_carried and abs(difference_pct) >= :pct
               order by abs(difference_pct) desc, material_id limit :limit""",
            t=tenant_id,
            pct=params.min_abs_pct,
            limit=params.limit,
        )
        uncarried = (
            lookup.rows(
                conn,
                """select material_id, sku_code, material_name, pricebook_cost
                   from marts.material_cost_drift where tenant_id = :t and not is_carried
                   order by material_id""",
                t=tenant_id,
            )
            if params.include_uncarried
            else []
        )
    return {"materials": drift, "count": len(drift), "carried_by_no_supplier": uncarried}


class ProposeCostUpdatesInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold_pct: float | None = Field(
        None,
        ge=0,
        description="Least drift in % to propose (default SUPPLIER_COST_CHANGE_THRESHOLD_PCT).",
    )
    tenant_id: int | None = None


@tool("propose_cost_updates", read_only=False, title="Propose pricebook cost updates")
def propose_cost_updates(context: ToolContext, params: ProposeCostUpdatesInput) -> dict[str, Any]:
    """Write a batch of proposed pricebook cost changes: each material whose best supplier
    price differs from its cost by at least the threshold, with old and new cost. Nothing is
    sent to ServiceTitan: show the batch to the user, then apply_cost_updates with its id."""
    tenant_id = context.tenant(params.tenant_id)
    threshold = (
        context.settings.suppliers.supplier_cost_change_threshold_pct
        if params.threshold_pct is None
        else params.threshold_pct
    )
    proposal = cost_updates.propose(context.engine, tenant_id, threshold)
    return {
        "batch_id": proposal.batch_id,
        "threshold_pct": threshold,
        "changes": [vars(c) for c in proposal.changes],
        "count": len(proposal.changes),
        "note": "nothing was sent to ServiceTitan"
        if proposal.batch_id
        else "no material drifts that much; no batch was written",
    }


class ApplyCostUpdatesInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_id: str = Field(description="The batch from propose_cost_updates.", min_length=3)
    rollback: bool = Field(False, description="true: restore what the batch replaced instead.")
    confirm: bool = Field(
        False, description="false: only show what would change. true: change ServiceTitan."
    )


@tool(
    "apply_cost_updates",
    read_only=False,
    destructive=True,
    idempotent=True,
    open_world=True,
    title="Apply (or roll back) a batch of pricebook cost updates",
)
def apply_cost_updates(context: ToolContext, params: ApplyCostUpdatesInput) -> dict[str, Any]:
    """Apply a proposed batch to ServiceTitan: each material's cost and its supplier's vendor
    cost, old values recorded; applying again changes nothing. rollback=true restores the
    recorded values. With confirm=false (the default) nothing changes: the batch is shown.
    Confirm with the user first, then call with confirm=true."""
    try:
        changes = cost_updates.batch_changes(context.engine, params.batch_id)
    except cost_updates.CostUpdateError as error:
        raise ToolInputError(str(error)) from None
    action = "rollback" if params.rollback else "apply"
    if not params.confirm:
        return {
            "confirmed": False,
            "changed": False,
            "action": action,
            "changes": changes,
            "note": "nothing was changed. Show these to the user; call again with confirm=true.",
        }
    if not context.settings.st_client_id:
        raise ToolUnavailable(
            "ServiceTitan is not configured (set ST_CLIENT_ID, ST_CLIENT_SECRET, ST_APP_KEY)"
        )
    run = cost_updates.rollback if params.rollback else cost_updates.apply
    try:
        result = run(context.engine, params.batch_id, context.st_client_factory)
    except cost_updates.CostUpdateError as error:
        raise ToolInputError(str(error)) from None
    return {
        "confirmed": True,
        "action": action,
        "changed_material_ids": result.changed,
        "unchanged_material_ids": result.unchanged,
        "changed": bool(result.changed),
    }
