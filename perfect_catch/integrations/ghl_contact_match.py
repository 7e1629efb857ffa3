"""An ST customer's GHL contact: linked already, else found by phone, then email, else created.

Searching GHL before creating (and creating through upsert, which de-duplicates again) is what
keeps a push from making a second contact for a customer GHL already knows. The contact found or
made is linked in `ghl_customer_contacts`, so later pushes do not search again.
"""

from __future__ import annotations

from typing import Any

import psycopg

from perfect_catch.connectors.gohighlevel import GoHighLevelClient
from perfect_catch.integrations import ghl_links, ghl_st_records
from perfect_catch.integrations.ghl_bodies import contact_body, customer_id_field
from perfect_catch.integrations.ghl_push_outcome import PushSkipped


def required_customer(conn: psycopg.Connection, tenant_id: int, customer_id: int) -> dict[str, Any]:
    """The customer's row; a customer missing from the warehouse skips the push."""
    row = ghl_st_records.customer(conn, tenant_id, customer_id)
    if row is None:
        raise PushSkipped(f"customer {customer_id} is not in the warehouse")
    return row


def ensure_contact(
    conn: psycopg.Connection,
    client: GoHighLevelClient,
    tenant_id: int,
    customer_id: int,
    customer_id_field_key: str,
) -> tuple[str, str]:
    """(contact id, how it was found). Search by phone, then email, else create."""
    location_id = client.location_id
    link = ghl_links.contact_link(conn, tenant_id, customer_id, location_id)
    if link is not None:
        return link["contact_id"], "linked"
    customer = required_customer(conn, tenant_id, customer_id)
    phones, emails = ghl_st_records.phones_and_emails(conn, tenant_id, customer_id)
    if not phones and not emails:
        raise PushSkipped(f"customer {customer_id} has no phone or email to match or create by")
    custom_fields = customer_id_field(customer_id_field_key, customer_id)
    found, matched_by = None, "created"
    for kind, values in (("phone", phones), ("email", emails)):
        for value in values:
            hits = client.find_contacts(kind, value)
            if hits:
                found, matched_by = hits[0], kind
                break
        if found:
            break
    if found is not None:
        contact_id = found["id"]
        client.update_contact(contact_id, {"customFields": custom_fields})
    else:
        contact, new = client.upsert_contact(contact_body(customer, phones, emails, custom_fields))
        contact_id = contact["id"]
        matched_by = "created" if new else "upsert"
    ghl_links.link_contact(conn, tenant_id, customer_id, location_id, contact_id, matched_by)
    return contact_id, matched_by
