"""GHL -> ST: contacts tagged as customers in GHL, unknown to ST, become ST customers once.

Off unless `GHL_PULL_TO_ST` is set, because it writes to the system of record. A contact is a
candidate when it carries the customer tag (`GHL_CUSTOMER_TAG`), is linked to no ST customer,
and no ST customer has its phone (E.164) or email. Each creation is recorded in
`integrations.ghl_st_customers` before the call ('pending') and after it ('created', with the
new id), and the contact is linked in `ghl_customer_contacts`, so the push side never creates a
second GHL contact for it and a rerun never creates a second ST customer. A row left 'pending'
(the run died during the call) is not retried automatically: it is reported for a person to
check, since ST may have created the customer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg
import sqlalchemy as sa

from perfect_catch.connectors.http import ApiError
from perfect_catch.integrations.db import connection, fetch_all
from perfect_catch.integrations.ghl_links import link_contact
from perfect_catch.integrations.ghl_sync_log import write_sync_log
from perfect_catch.settings import Settings


class CustomerWriter(Protocol):
    """What this needs from an ST client: `ServiceTitanClient.post`."""

    def post(self, module: str, path: str, json: Any = None) -> Any: ...


@dataclass
class GhlToStResult:
    created: list[int] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)
    enabled: bool = True


_CANDIDATES = """
select g.id, g.first_name, g.last_name, g.email, g.phone_e164, g.raw
from integrations.ghl_contacts g
where g.location_id = %(location)s and g.deleted_at is null
  and lower(%(tag)s) = any(select lower(t) from unnest(g.tags) t)
  and not exists (select 1 from integrations.ghl_customer_contacts l
                  where l.location_id = g.location_id and l.contact_id = g.id
                    and l.tenant_id = %(tenant)s)
  and not exists (select 1 from integrations.ghl_st_customers s
                  where s.location_id = g.location_id and s.contact_id = g.id
                    and s.tenant_id = %(tenant)s)
  and not exists (select 1 from servicetitan.st_customer_contacts c
                  where c.tenant_id = %(tenant)s and c.deleted_at is null
                    and ((g.phone_e164 is not null and c.type in ('Phone', 'MobilePhone')
                          and integrations.e164(c.value) = g.phone_e164)
                      or (g.email is not null and c.type = 'Email'
                          and lower(btrim(c.value)) = lower(btrim(g.email)))))
order by g.date_added, g.id
"""


def _customer_body(contact: dict[str, Any]) -> dict[str, Any] | None:
    """ST's create-customer request, or None when GHL lacks the address ST requires."""
    raw = contact["raw"] or {}
    street, city, state, zip_code = (
        raw.get("address1"),
        raw.get("city"),
        raw.get("state"),
        raw.get("postalCode"),
    )
    if not (street and city and state and zip_code):
        return None
    name = " ".join(p for p in (contact["first_name"], contact["last_name"]) if p) or (
        contact["email"] or contact["phone_e164"] or "GHL contact"
    )
    address = {
        "street": street,
        "city": city,
        "state": state,
        "zip": zip_code,
        "country": raw.get("country") or "USA",
    }
    contacts = []
    if contact["phone_e164"]:
        contacts.append({"type": "MobilePhone", "value": contact["phone_e164"], "memo": "GHL"})
    if contact["email"]:
        contacts.append({"type": "Email", "value": contact["email"], "memo": "GHL"})
    return {
        "name": name,
        "type": "Residential",
        "address": address,
        "contacts": contacts,
        "locations": [{"name": name, "address": address, "contacts": []}],
    }


def pull_ghl_customers_to_st(
    engine: sa.Engine,
    st_client: CustomerWriter,
    location_id: str,
    tenant_id: int,
    settings: Settings,
) -> GhlToStResult:
    """Create ST customers (with a location) for candidate GHL contacts, at most once each."""
    config = settings.integrations
    if not config.ghl_pull_to_st:
        return GhlToStResult(enabled=False)
    result = GhlToStResult()
    params = {"location": location_id, "tag": config.ghl_customer_tag, "tenant": int(tenant_id)}
    with connection(engine) as conn:
        result.pending = [
            row[0]
            for row in conn.execute(
                "select contact_id from integrations.ghl_st_customers where location_id = %s "
                "and tenant_id = %s and state = 'pending'",
                (location_id, int(tenant_id)),
            ).fetchall()
        ]
        candidates = fetch_all(conn, _CANDIDATES, params)
        for contact in candidates:
            contact_id = contact["id"]
            body = _customer_body(contact)
            if body is None:
                result.skipped[contact_id] = "no full address in GHL"
                _log(conn, tenant_id, location_id, contact_id, "skipped", "no full address")
                continue
            conn.execute(
                "insert into integrations.ghl_st_customers (location_id, contact_id, tenant_id) "
                "values (%s, %s, %s) on conflict do nothing",
                (location_id, contact_id, int(tenant_id)),
            )
            try:
                created = st_client.post("crm", "customers", json=body)
            except ApiError as exc:
                conn.execute(
                    "delete from integrations.ghl_st_customers where location_id = %s "
                    "and contact_id = %s and tenant_id = %s and state = 'pending'",
                    (location_id, contact_id, int(tenant_id)),
                )
                result.failed[contact_id] = str(exc)
                _log(conn, tenant_id, location_id, contact_id, "failed", str(exc))
                continue
            customer_id = int(created["id"])
            locations = created.get("locations") or [{}]
            with conn.transaction():
                conn.execute(
                    "update integrations.ghl_st_customers set state = 'created', "
                    "customer_id = %s, location_st_id = %s, updated_at = now() "
                    "where location_id = %s and contact_id = %s and tenant_id = %s",
                    (customer_id, locations[0].get("id"), location_id, contact_id, int(tenant_id)),
                )
                link_contact(conn, int(tenant_id), customer_id, location_id, contact_id, "from_ghl")
                _log(conn, tenant_id, location_id, contact_id, "created", f"ST {customer_id}")
            result.created.append(customer_id)
    return result


def _log(
    conn: psycopg.Connection,
    tenant_id: int,
    location: str,
    contact_id: str,
    outcome: str,
    detail: str,
) -> None:
    write_sync_log(
        conn,
        direction="pull",
        action="create_st_customer",
        tenant_id=tenant_id,
        entity="ghl_contact",
        entity_id=contact_id,
        location_id=location,
        ghl_id=contact_id,
        outcome=outcome,
        detail=detail,
    )
