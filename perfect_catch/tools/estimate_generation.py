"""`generate_estimate`: a free-text job description turned into an estimate priced from the
tenant's pricebook, proposed first and created in ServiceTitan only when confirmed. Prices come
from the pricebook items each line is matched to (`line_matching`, searching with
`estimate_search`), never from the reading of the description: Claude's structured extraction
(`job_reading`) when a key is configured, else the clause reading of `work_clauses`."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from perfect_catch.tools import lookup, writeback
from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.errors import NotFoundError, ToolInputError
from perfect_catch.tools.job_reading import claude_lines
from perfect_catch.tools.line_matching import (
    EstimateDraft,
    draft_from_clauses,
    draft_from_work_lines,
)
from perfect_catch.tools.pricebook import Item, load_items
from perfect_catch.tools.pricing import money
from perfect_catch.tools.registry import tool
from perfect_catch.tools.work_clauses import clauses

log = logging.getLogger(__name__)


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


@tool(
    "generate_estimate",
    read_only=False,
    open_world=True,
    title="Draft (and create) an estimate from a description",
)
def generate_estimate(context: ToolContext, params: GenerateEstimateInput) -> dict[str, Any]:
    """Turn a free-text job description into an estimate priced from the real pricebook.

    Every piece of work in the description becomes a line (several per sentence), matched to
    pricebook services, materials or equipment by full-text and trigram search over names,
    descriptions and the trade's words ("salt cell", "EV charger"), with alternatives and a
    confidence (0-1), and priced from the pricebook. Equipment comes with the labor that
    installs it; nothing the description did not ask for is added. Work that matched nothing
    is listed under `unmatched`. Claude extracts the work when an Anthropic key is
    configured, otherwise the description is read clause by clause (`extraction.method`).
    With confirm=false nothing is written: show the draft to the user; with confirm=true the
    estimate is created in ServiceTitan on the job (or the customer's location).
    """
    tenant_id = context.tenant(params.tenant_id)
    with context.engine.connect() as conn:
        items = load_items(conn, tenant_id)
        if not items:
            raise ToolInputError("the pricebook is empty in the warehouse; sync ServiceTitan first")
        target = _estimate_target(conn, tenant_id, params) if params.confirm else None
        draft, extraction = draft_estimate(context, conn, tenant_id, params.description, items)
    priced = list(draft.lines.values())
    unmatched = draft.unmatched
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
            record=writeback.written_record(created),
            resync=("estimates",),
        )
    answer["created"] = {"estimate_id": (created or {}).get("id"), "warehouse": warehouse}
    return answer


def draft_estimate(
    context: ToolContext,
    conn: sa.Connection,
    tenant_id: int,
    description: str,
    items: list[Item],
) -> tuple[EstimateDraft, dict[str, Any]]:
    """The lines of `description` and how it was read: Claude's extraction when a key is
    configured (the clause reading stands in, saying so, when Claude fails), else the clause
    reading."""
    if context.anthropic_client() is not None:
        try:
            lines = claude_lines(context, description, items)
            draft = draft_from_work_lines(conn, tenant_id, lines, items)
            return draft, {"method": "claude", "model": context.settings.anthropic_model}
        except Exception as error:
            log.warning("Claude extraction failed, reading clauses instead: %s", type(error))
            note = (
                f"Claude was unavailable ({type(error).__name__}); the description was read "
                "clause by clause and matched by pricebook search. Review the lines."
            )
    else:
        note = (
            "No ANTHROPIC_API_KEY: the description was read clause by clause (not Claude) "
            "and matched by pricebook search. Review the lines before confirming."
        )
    draft = draft_from_clauses(conn, tenant_id, clauses(description))
    return draft, {"method": "keyword_matcher", "note": note}


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
