"""Apply one GoHighLevel webhook to the pulled tables, so GHL changes show up between pulls.

The webhook receiver (another component) verifies and parses the request, then calls
`apply_ghl_webhook(engine, payload)`. Contact and opportunity events upsert the record with the
same rule as the pull (an older version never overwrites a newer one), deletes mark the row
deleted, and every event is logged in `integrations.ghl_sync_log`. The next pull corrects any
field a webhook does not carry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from perfect_catch.integrations.db import connection
from perfect_catch.integrations.ghl_sync import upsert_contacts, upsert_opportunities

CONTACT_EVENTS = frozenset(
    {"ContactCreate", "ContactUpdate", "ContactTagUpdate", "ContactDndUpdate"}
)
OPPORTUNITY_EVENTS = frozenset(
    {
        "OpportunityCreate",
        "OpportunityUpdate",
        "OpportunityStageUpdate",
        "OpportunityStatusUpdate",
        "OpportunityMonetaryValueUpdate",
        "OpportunityAssignedToUpdate",
    }
)
DELETES = {"ContactDelete": "ghl_contacts", "OpportunityDelete": "ghl_opportunities"}


class WebhookError(ValueError):
    """The payload lacks what is needed to apply it (type, locationId, id)."""


def _stamp(payload: dict[str, Any], *fields: str) -> str:
    for name in fields:
        if payload.get(name):
            return str(payload[name])
    return datetime.now(UTC).isoformat()


def apply_ghl_webhook(engine: sa.Engine, payload: dict[str, Any]) -> str:
    """Apply the event; returns the outcome ('written', 'unchanged', 'deleted', 'ignored')."""
    event = payload.get("type")
    location = payload.get("locationId")
    record_id = payload.get("id")
    if not event or not location or not record_id:
        raise WebhookError("GHL webhook needs 'type', 'locationId' and 'id'")
    with connection(engine) as conn, conn.transaction():
        if event in CONTACT_EVENTS:
            record = {**payload, "dateUpdated": _stamp(payload, "dateUpdated", "dateAdded")}
            outcome = "written" if upsert_contacts(conn, location, [record]) else "unchanged"
        elif event in OPPORTUNITY_EVENTS:
            record = {
                **payload,
                "createdAt": payload.get("createdAt") or payload.get("dateAdded"),
                "updatedAt": _stamp(payload, "updatedAt", "dateUpdated"),
            }
            outcome = "written" if upsert_opportunities(conn, location, [record]) else "unchanged"
        elif event in DELETES:
            table = DELETES[event]
            cur = conn.execute(
                f"update integrations.{table} set deleted_at = now() "
                "where location_id = %s and id = %s and deleted_at is null",
                (location, record_id),
            )
            outcome = "deleted" if cur.rowcount else "unchanged"
        else:
            outcome = "ignored"
        conn.execute(
            "insert into integrations.ghl_sync_log (direction, action, entity, entity_id, "
            "location_id, ghl_id, outcome) values ('webhook', %s, %s, %s, %s, %s, %s)",
            (
                str(event),
                "opportunity" if str(event).startswith("Opportunity") else "contact",
                str(record_id),
                location,
                str(record_id),
                outcome,
            ),
        )
    return outcome
