"""The request bodies a push sends to GHL: a new contact, a new opportunity, and the changes
that bring an opportunity to a stage and value.

Opportunity names end in a marker such as "(ST estimate N)", so an opportunity created by a run
that died before recording it is found again by name instead of created twice.
"""

from __future__ import annotations

from typing import Any


def split_name(name: str | None) -> tuple[str | None, str | None]:
    """(first name, the rest) of an ST customer name; (None, None) when it is empty."""
    parts = (name or "").split()
    if not parts:
        return None, None
    return parts[0], " ".join(parts[1:]) or None


def customer_id_field(field_key: str, customer_id: int) -> list[dict[str, str]]:
    """The contact custom field that carries the ST customer id."""
    return [{"key": field_key, "field_value": str(customer_id)}]


def contact_body(
    customer: dict[str, Any],
    phones: list[str],
    emails: list[str],
    custom_fields: list[dict[str, str]],
) -> dict[str, Any]:
    """A new contact for the ST customer (first phone and email); empty fields are left out."""
    first, last = split_name(customer["name"])
    body = {
        "firstName": first,
        "lastName": last,
        "name": customer["name"],
        "phone": phones[0] if phones else None,
        "email": emails[0] if emails else None,
        "address1": customer["street"],
        "city": customer["city"],
        "state": customer["state"],
        "postalCode": customer["zip"],
        "source": "ServiceTitan",
        "tags": ["servicetitan"],
        "customFields": custom_fields,
    }
    return {k: v for k, v in body.items() if v}


def opportunity_body(
    *,
    pipeline_id: str,
    stage_id: str,
    name: str,
    marker: str,
    status: str,
    contact_id: str,
    value: float | None,
) -> dict[str, Any]:
    """A new opportunity named `name` followed by its `marker`."""
    body: dict[str, Any] = {
        "pipelineId": pipeline_id,
        "pipelineStageId": stage_id,
        "name": f"{name} {marker}".strip(),
        "status": status,
        "contactId": contact_id,
    }
    if value is not None:
        body["monetaryValue"] = value
    return body


def opportunity_changes(
    opportunity: dict[str, Any], pipeline_id: str, stage_id: str, value: float | None
) -> dict[str, Any]:
    """The fields of `opportunity` that differ from the wanted pipeline, stage and value."""
    changes: dict[str, Any] = {}
    if opportunity.get("pipelineId") != pipeline_id:
        changes["pipelineId"] = pipeline_id
    if opportunity.get("pipelineStageId") != stage_id:
        changes["pipelineStageId"] = stage_id
    if value is not None and float(opportunity.get("monetaryValue") or 0) != float(value):
        changes["monetaryValue"] = value
    return changes
