"""The link tables that make GHL pushes idempotent.

- `ghl_customer_contacts`: an ST customer's GHL contact in a location, how it was matched, the
  customer's lead opportunity, and which estimate (if any) has claimed that lead.
- `ghl_estimate_opportunities`: the one opportunity of an estimate, with the stage, status and
  value last pushed.

The pull of GHL contacts into ST links the customers it creates through `link_contact` too, so
the push never makes a second GHL contact for them.
"""

from __future__ import annotations

from typing import Any

import psycopg

from perfect_catch.integrations.db import fetch_one


def contact_link(
    conn: psycopg.Connection, tenant_id: int, customer_id: int, location_id: str
) -> dict[str, Any] | None:
    """The customer's contact id, lead opportunity id and the estimate that claimed the lead."""
    return fetch_one(
        conn,
        "select contact_id, lead_opportunity_id, lead_claimed_by_estimate_id "
        "from integrations.ghl_customer_contacts "
        "where tenant_id = %s and customer_id = %s and location_id = %s",
        (tenant_id, customer_id, location_id),
    )


def link_contact(
    conn: psycopg.Connection,
    tenant_id: int,
    customer_id: int,
    location_id: str,
    contact_id: str,
    matched_by: str,
) -> None:
    """Link the customer to the contact; a customer already linked keeps its first contact."""
    conn.execute(
        "insert into integrations.ghl_customer_contacts "
        "(tenant_id, customer_id, location_id, contact_id, matched_by) "
        "values (%s, %s, %s, %s, %s) on conflict do nothing",
        (tenant_id, customer_id, location_id, contact_id, matched_by),
    )


def set_lead_opportunity(
    conn: psycopg.Connection,
    tenant_id: int,
    customer_id: int,
    location_id: str,
    opportunity_id: str,
) -> None:
    conn.execute(
        "update integrations.ghl_customer_contacts set lead_opportunity_id = %s, "
        "updated_at = now() where tenant_id = %s and customer_id = %s and location_id = %s",
        (opportunity_id, tenant_id, customer_id, location_id),
    )


def claim_lead(
    conn: psycopg.Connection,
    tenant_id: int,
    customer_id: int,
    location_id: str,
    estimate_id: int,
) -> str | None:
    """The lead opportunity id, if the estimate now holds the lead (unclaimed, or its own)."""
    claimed = fetch_one(
        conn,
        "update integrations.ghl_customer_contacts set lead_claimed_by_estimate_id = %s, "
        "updated_at = now() where tenant_id = %s and customer_id = %s and location_id = %s "
        "and lead_opportunity_id is not null and (lead_claimed_by_estimate_id is null "
        "or lead_claimed_by_estimate_id = %s) returning lead_opportunity_id",
        (estimate_id, tenant_id, customer_id, location_id, estimate_id),
    )
    return None if claimed is None else claimed["lead_opportunity_id"]


def estimate_opportunity_id(
    conn: psycopg.Connection, tenant_id: int, estimate_id: int, location_id: str
) -> str | None:
    link = fetch_one(
        conn,
        "select opportunity_id from integrations.ghl_estimate_opportunities "
        "where tenant_id = %s and estimate_id = %s and location_id = %s",
        (tenant_id, estimate_id, location_id),
    )
    return link["opportunity_id"] if link and link["opportunity_id"] else None


def link_estimate(
    conn: psycopg.Connection,
    tenant_id: int,
    estimate_id: int,
    location_id: str,
    customer_id: int,
    contact_id: str,
    opportunity_id: str,
) -> None:
    """Link the estimate to its opportunity, replacing an earlier link."""
    conn.execute(
        "insert into integrations.ghl_estimate_opportunities (tenant_id, estimate_id, "
        "location_id, customer_id, contact_id, opportunity_id, state) "
        "values (%s, %s, %s, %s, %s, %s, 'linked') "
        "on conflict (tenant_id, estimate_id, location_id) do update set "
        "opportunity_id = excluded.opportunity_id, contact_id = excluded.contact_id, "
        "state = 'linked', updated_at = now()",
        (tenant_id, estimate_id, location_id, customer_id, contact_id, opportunity_id),
    )


def record_estimate_push(
    conn: psycopg.Connection,
    tenant_id: int,
    estimate_id: int,
    location_id: str,
    *,
    stage_key: str,
    status: str | None,
    value: float | None,
    job_id: int | None,
) -> None:
    """Remember what the estimate's opportunity holds after a push (the reconciliation re-pushes
    estimates whose stage is not final)."""
    conn.execute(
        "update integrations.ghl_estimate_opportunities set stage_key = %s, status = %s, "
        "monetary_value = %s, job_id = %s, updated_at = now() "
        "where tenant_id = %s and estimate_id = %s and location_id = %s",
        (stage_key, status, value, job_id, tenant_id, estimate_id, location_id),
    )
