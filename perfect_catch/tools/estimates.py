"""Estimates and the pricebook: look up, build, price and change estimates in ServiceTitan.

Prices always come from the tenant's pricebook in the warehouse; nothing is priced from a
model's guess. `generate_estimate` lets Claude read a free-text job description and name the
work, then matches each line to real pricebook items itself, with alternatives and a
confidence; without an Anthropic key a deterministic keyword matcher does the reading and the
result says so.
"""

from __future__ import annotations

import logging
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, model_validator

from perfect_catch.tools import lookup, writeback
from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.errors import ConflictError, NotFoundError, ToolInputError
from perfect_catch.tools.pricebook import KINDS, Item, Kind, load_items, rank, score, words
from perfect_catch.tools.registry import tool

log = logging.getLogger(__name__)
CENT = Decimal("0.01")
MATCH_THRESHOLD = 0.5
_PRICEBOOK_PATHS: dict[Kind, str] = {
    "service": "services",
    "material": "materials",
    "equipment": "equipment",
}
_PRICEBOOK_ENTITIES: dict[Kind, str] = {
    "service": "pricebook_services",
    "material": "pricebook_materials",
    "equipment": "pricebook_equipment",
}


def money(value: Decimal | float | int) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


# --- search_pricebook -------------------------------------------------------------------------


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


# --- estimate details -------------------------------------------------------------------------


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
    if found[0]["status"] != "Open":
        raise ConflictError(f"estimate {estimate_id} is {found[0]['status']}, not Open")
    return found[0]


def resolve_sku(items: list[Item], reference: int | str) -> Item:
    """A pricebook item by id, code or (unique) name."""
    text = str(reference).strip()
    by_id = [i for i in items if text.isdigit() and i.id == int(text)]
    by_code = [i for i in items if i.code.lower() == text.lower()]
    by_name = [i for i in items if i.name.lower() == text.lower()]
    for found in (by_id, by_code, by_name):
        if len(found) == 1:
            return found[0]
    candidates = [item for item, _ in rank(items, text, 5)]
    hint = "; ".join(f"{i.id} {i.code} {i.name}" for i in candidates)
    raise NotFoundError(
        f"no single pricebook item is {reference!r}"
        + (f"; closest: {hint}" if hint else "; use search_pricebook")
    )


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
            record=record if isinstance(record, dict) and record.get("id") else None,
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


# --- generate_estimate ------------------------------------------------------------------------


class GenerateEstimateInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = Field(
        description="The job in plain words, e.g. 'replace the pool pump with a variable speed "
        "one and 2 skimmer baskets'.",
        min_length=3,
        max_length=4000,
    )
    job_id: int | None = Field(None, description="Job the estimate belongs to (to create it).")
    customer_id: int | None = Field(
        None, description="Customer, when there is no job (their location is used)."
    )
    name: str | None = Field(None, description="Estimate name; defaults to the first line.")
    confirm: bool = Field(
        False, description="false: only propose and price. true: create the estimate in ST."
    )
    tenant_id: int | None = None


class WorkLine(BaseModel):
    """One piece of work read from the description."""

    work: str
    quantity: float = 1.0
    kind: Kind | None = None
    sku_code: str | None = None
    search_terms: str = ""


_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_SPLIT = re.compile(r"[,;\n.]+|\band\b|\bplus\b|\balso\b|\bwith\b", re.IGNORECASE)
_QUANTITY = re.compile(r"\b(\d+(?:\.\d+)?)\s*(?:x\b)?|\b(a|an|one|two|three|four|five|six)\b", re.I)


def keyword_lines(description: str) -> list[WorkLine]:
    """Deterministic reading: one work line per clause, with the first quantity in it."""
    lines = []
    for clause in _SPLIT.split(description):
        clause = clause.strip()
        if not words(clause):
            continue
        quantity = 1.0
        match = _QUANTITY.search(clause)
        if match:
            quantity = (
                float(match.group(1)) if match.group(1) else _NUMBER_WORDS[match.group(2).lower()]
            )
        lines.append(WorkLine(work=clause, quantity=quantity or 1.0))
    return lines


_EXTRACTION_TOOL = {
    "name": "record_work",
    "description": "Record each distinct piece of work, part or equipment the job needs.",
    "input_schema": {
        "type": "object",
        "properties": {
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "work": {"type": "string", "description": "The work, in a few words."},
                        "kind": {"type": "string", "enum": ["service", "material", "equipment"]},
                        "quantity": {"type": "number"},
                        "sku_code": {
                            "type": "string",
                            "description": "Code of the pricebook item that fits, if one does.",
                        },
                        "search_terms": {"type": "string"},
                    },
                    "required": ["work", "kind", "quantity"],
                },
            }
        },
        "required": ["lines"],
    },
}


def claude_lines(context: ToolContext, description: str, items: list[Item]) -> list[WorkLine]:
    """Claude's reading of the description, as work lines naming pricebook codes."""
    client = context.anthropic_client()
    assert client is not None
    catalogue = "\n".join(f"{i.code} | {i.kind} | {i.name}" for i in items[:600])
    message = client.messages.create(
        model=context.settings.anthropic_model,
        max_tokens=2000,
        system=(
            "You turn a home-service job description into estimate lines. List each service "
            "(labour), material and piece of equipment the job needs, with a quantity. When a "
            "pricebook item fits, give its code; never invent codes or prices."
        ),
        tools=[_EXTRACTION_TOOL],  # type: ignore[list-item]
        tool_choice={"type": "tool", "name": "record_work"},
        messages=[
            {
                "role": "user",
                "content": f"Pricebook (code | kind | name):\n{catalogue}\n\nJob:\n{description}",
            }
        ],
    )
    for block in message.content:
        if getattr(block, "type", None) == "tool_use" and block.name == "record_work":
            raw_lines = (block.input or {}).get("lines") or []  # type: ignore[union-attr]
            return [WorkLine.model_validate(line) for line in raw_lines if isinstance(line, dict)]
    raise ValueError("Claude did not return work lines")


def match_line(line: WorkLine, items: list[Item]) -> dict[str, Any]:
    """The pricebook item for `line`, priced, with alternatives and a confidence."""
    pool = [i for i in items if line.kind is None or i.kind == line.kind] or items
    text = f"{line.work} {line.search_terms}".strip()
    ranked = rank(pool, text, 4)
    chosen: tuple[Item, float] | None = ranked[0] if ranked else None
    if line.sku_code:
        coded = [i for i in items if i.code.lower() == line.sku_code.lower()]
        if coded:
            overlap = score(coded[0], words(text))
            confidence = 0.95 if overlap >= MATCH_THRESHOLD else max(0.6, overlap)
            chosen = (coded[0], confidence)
            ranked = [chosen] + [pair for pair in ranked if pair[0] != coded[0]]
    chosen_item = chosen[0] if chosen else None
    seen = {item.id for item, _ in ranked}
    nearby = ranked + [pair for pair in rank(items, text, 6) if pair[0].id not in seen]
    alternatives = [
        {**item.as_dict(), "match": match} for item, match in nearby if item != chosen_item
    ][:3]
    if chosen is None or chosen[1] < MATCH_THRESHOLD:
        return {
            "work": line.work,
            "quantity": line.quantity,
            "matched": False,
            "confidence": chosen[1] if chosen else 0.0,
            "alternatives": [{**i.as_dict(), "match": m} for i, m in nearby[:3]],
        }
    item, confidence = chosen
    unit = money(item.price)
    return {
        "work": line.work,
        "quantity": line.quantity,
        "matched": True,
        "item": item.as_dict(),
        "unit_price": unit,
        "total": money(unit * Decimal(str(line.quantity))),
        "confidence": confidence,
        "alternatives": alternatives,
    }


@tool(
    "generate_estimate",
    read_only=False,
    open_world=True,
    title="Draft (and create) an estimate from a description",
)
def generate_estimate(context: ToolContext, params: GenerateEstimateInput) -> dict[str, Any]:
    """Turn a free-text job description into an estimate priced from the real pricebook.

    Claude reads the description and names the work; each line is matched to pricebook
    services, materials or equipment with alternatives and a confidence (0-1), and priced
    from the pricebook. Lines below 0.5 confidence are listed as unmatched, not priced.
    Without an Anthropic key a deterministic keyword matcher reads the description (the
    result's `extraction.method` says which). With confirm=false nothing is written: show the
    draft to the user; with confirm=true the estimate is created in ServiceTitan on the job
    (or the customer's location).
    """
    tenant_id = context.tenant(params.tenant_id)
    with context.engine.connect() as conn:
        items = load_items(conn, tenant_id)
        target = _estimate_target(conn, tenant_id, params) if params.confirm else None
    if not items:
        raise ToolInputError("the pricebook is empty in the warehouse; sync ServiceTitan first")
    extraction: dict[str, Any]
    if context.anthropic_client() is not None:
        try:
            lines = claude_lines(context, params.description, items)
            extraction = {"method": "claude", "model": context.settings.anthropic_model}
        except Exception as error:
            log.warning("Claude extraction failed, falling back to keywords: %s", type(error))
            lines = keyword_lines(params.description)
            extraction = {
                "method": "keyword_matcher",
                "note": f"Claude was unavailable ({type(error).__name__}); a deterministic "
                "keyword matcher read the description. Review the lines.",
            }
    else:
        lines = keyword_lines(params.description)
        extraction = {
            "method": "keyword_matcher",
            "note": "No ANTHROPIC_API_KEY: a deterministic keyword matcher (not Claude) read "
            "the description. Review the lines before confirming.",
        }
    matched_lines = [match_line(line, items) for line in lines]
    priced = [line for line in matched_lines if line["matched"]]
    unmatched = [line for line in matched_lines if not line["matched"]]
    subtotal = sum((line["total"] for line in priced), Decimal(0))
    name = params.name or (priced[0]["item"]["name"] if priced else params.description[:60])
    answer: dict[str, Any] = {
        "extraction": extraction,
        "name": name,
        "lines": priced,
        "unmatched": unmatched,
        "subtotal": money(subtotal),
        "created": None,
    }
    if not params.confirm:
        answer["next_step"] = (
            "nothing was written. Show this draft; call again with confirm=true (and job_id or "
            "customer_id) to create it, or use search_pricebook to fix unmatched lines."
        )
        return answer
    if not priced:
        raise ToolInputError("no line matched the pricebook; nothing to create")
    assert target is not None
    body = {
        "name": name,
        "summary": params.description,
        **target,
        "items": [
            {
                "skuId": line["item"]["sku_id"],
                "quantity": line["quantity"],
                "unitPrice": float(line["unit_price"]),
                "description": line["item"]["name"],
            }
            for line in priced
        ],
    }
    with context.servicetitan(tenant_id) as client:
        created = client.post("sales", "estimates", json=body)
        warehouse = writeback.reflect(
            context,
            client,
            tenant_id,
            entity="estimates",
            record=created if isinstance(created, dict) and created.get("id") else None,
            resync=("estimates",),
        )
    answer["created"] = {"estimate_id": (created or {}).get("id"), "warehouse": warehouse}
    return answer


def _estimate_target(
    conn: sa.Connection, tenant_id: int, params: GenerateEstimateInput
) -> dict[str, Any]:
    """Where a confirmed estimate goes: the job (checked), else the customer's location."""
    if params.job_id is not None:
        job = lookup.rows(
            conn,
            """select id, location_id from servicetitan.st_jobs
               where tenant_id = :t and id = :j and deleted_at is null""",
            t=tenant_id,
            j=params.job_id,
        )
        if not job:
            raise NotFoundError(f"job {params.job_id} does not exist")
        return {"jobId": job[0]["id"], "locationId": job[0]["location_id"]}
    if params.customer_id is not None:
        customer = lookup.resolve_customer(conn, tenant_id, customer_id=params.customer_id)
        locations = lookup.locations_of(conn, tenant_id, customer["id"])
        if len(locations) != 1:
            raise ToolInputError(
                f"customer {customer['id']} has {len(locations)} locations; pass job_id instead"
            )
        return {"locationId": locations[0]["id"]}
    raise ToolInputError("to create the estimate, give job_id or customer_id")


# --- pricebook price --------------------------------------------------------------------------


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
                 and e.deleted_at is null and e.status = 'Open'""",
            t=tenant_id,
            s=item.id,
        )[0]["n"]
    new_price = money(params.price)
    cost = item.cost or Decimal(0)
    if cost and new_price < cost and not params.allow_below_cost:
        raise ToolInputError(
            f"{item.code} {item.name} costs {money(cost)}; {new_price} would sell it at a loss. "
            "Pass allow_below_cost=true if that is intended."
        )
    old = money(item.price)
    effect = {
        "sku_id": item.id,
        "kind": item.kind,
        "code": item.code,
        "name": item.name,
        "old_price": old,
        "new_price": new_price,
        "change": new_price - old,
        "change_percent": round(float((new_price - old) / old * 100), 1) if old else None,
        "old_member_price": item.member_price,
        "new_member_price": money(params.member_price) if params.member_price else None,
        "cost": item.cost,
        "new_margin": round(float((new_price - cost) / new_price), 3) if cost else None,
        "open_estimates_using_it": open_estimates,
        "note": "open estimates keep their prices; only new lines use the new price",
    }
    if params.dry_run:
        return {"dry_run": True, "changed": False, **effect}
    body: dict[str, Any] = {"price": float(new_price)}
    if params.member_price is not None:
        body["memberPrice"] = float(money(params.member_price))
    with context.servicetitan(tenant_id) as client:
        record = client.patch("pricebook", f"{_PRICEBOOK_PATHS[item.kind]}/{item.id}", json=body)
        warehouse = writeback.reflect(
            context,
            client,
            tenant_id,
            entity=_PRICEBOOK_ENTITIES[item.kind],
            record=record if isinstance(record, dict) and record.get("id") else None,
            resync=(_PRICEBOOK_ENTITIES[item.kind],),
        )
    return {"dry_run": False, "changed": True, **effect, "warehouse": warehouse}
