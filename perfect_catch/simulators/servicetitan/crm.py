"""POST crm/v2/tenant/{t}/customers: a customer with its locations and contacts.

The customer, each location and each customer contact become records of their own, so the
customers, locations and customer-contacts exports show them at once. Location contacts are
returned with ids, as the real API does, but have no export here.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from perfect_catch.simulators.servicetitan.records.crm import NO_PHONE_SETTINGS
from perfect_catch.simulators.servicetitan.records.shared import Record
from perfect_catch.simulators.servicetitan.refusals import invalid, is_id

if TYPE_CHECKING:
    from perfect_catch.simulators.servicetitan.writer import TenantWriter

CONTACT_TYPES = ("Phone", "Email", "Fax", "MobilePhone")
CUSTOMER_TYPES = ("Residential", "Commercial")
_ADDRESS_FIELDS = ("street", "city", "state", "zip", "country")
LOCATION_CONTACT_ID_BASE = 240_000_000


def _address(value: Any, field: str) -> Record:
    if not isinstance(value, dict):
        raise invalid(field, f"The {field} field is required.")
    for part in _ADDRESS_FIELDS:
        if not isinstance(value.get(part), str) or not value[part].strip():
            raise invalid(f"{field}.{part}", f"The {part} field is required.")
    unit = value.get("unit")
    if unit is not None and not isinstance(unit, str):
        raise invalid(f"{field}.unit", "unit must be a string.")
    coordinates = {}
    for part in ("latitude", "longitude"):
        number = value.get(part)
        if number is not None and (not isinstance(number, int | float) or isinstance(number, bool)):
            raise invalid(f"{field}.{part}", f"{part} must be a number.")
        coordinates[part] = None if number is None else float(number)
    return {**{p: value[p].strip() for p in _ADDRESS_FIELDS}, "unit": unit, **coordinates}


def _contacts(value: Any, field: str) -> list[Record]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(field, f"{field} must be a list.")
    contacts = []
    for n, contact in enumerate(value):
        where = f"{field}[{n}]"
        if not isinstance(contact, dict) or contact.get("type") not in CONTACT_TYPES:
            raise invalid(f"{where}.type", f"type must be one of {', '.join(CONTACT_TYPES)}.")
        if not isinstance(contact.get("value"), str) or not contact["value"].strip():
            raise invalid(f"{where}.value", "The value field is required.")
        memo = contact.get("memo")
        if memo is not None and not isinstance(memo, str):
            raise invalid(f"{where}.memo", "memo must be a string.")
        contacts.append({"type": contact["type"], "value": contact["value"].strip(), "memo": memo})
    return contacts


def _flag(body: dict[str, Any], field: str) -> bool:
    value = body.get(field)
    if value is not None and not isinstance(value, bool):
        raise invalid(field, f"{field} must be true or false.")
    return bool(value)


def _ids(body: dict[str, Any], field: str) -> list[int]:
    value = body.get(field) or []
    if not isinstance(value, list) or not all(is_id(v) for v in value):
        raise invalid(field, f"{field} must be a list of ids.")
    return value


def _custom_fields(value: Any, field: str) -> list[Record]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(c, dict) and isinstance(c.get("typeId"), int) for c in value
    ):
        raise invalid(field, f"{field} must be a list of {{typeId, value}}.")
    return [{"typeId": c["typeId"], "name": None, "value": c.get("value")} for c in value]


def phone_digits(value: str) -> str:
    """The ten digits ST keeps in phoneSettings (a leading US country code dropped)."""
    digits = re.sub(r"\D", "", value)
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def _customer_contact(m: TenantWriter, customer: Record, contact: Record) -> Record:
    phone = contact["type"] in ("Phone", "MobilePhone")
    return m.create_like(
        "customer-contacts",
        {
            "customerId": customer["id"],
            "type": contact["type"],
            "value": contact["value"],
            "memo": contact["memo"],
            "phoneSettings": (
                {"phoneNumber": phone_digits(contact["value"]), "doNotText": False}
                if phone
                else dict(NO_PHONE_SETTINGS)
            ),
            "preferences": {
                "jobRemindersEnabled": True,
                "marketingUpdatesEnabled": True,
                "invoiceStatementNotification": contact["type"] == "Email",
            },
        },
        ticks=m.store.clock.now,
    )


def _location_contacts(m: TenantWriter, contacts: list[Record]) -> list[Record]:
    made = []
    for contact in contacts:
        m.location_contacts += 1
        made.append({"id": LOCATION_CONTACT_ID_BASE + m.location_contacts, **contact})
    return made


def create_customer(m: TenantWriter, body: dict[str, Any]) -> Record:
    """Validate a `CreateCustomerRequest`, then store customer, locations and contacts."""
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise invalid("name", "The Name field is required.")
    kind = body.get("type") or "Residential"
    if kind not in CUSTOMER_TYPES:
        raise invalid("type", f"type must be one of {', '.join(CUSTOMER_TYPES)}.")
    address = _address(body.get("address"), "address")
    requested = body.get("locations")
    if not isinstance(requested, list) or not requested:
        raise invalid("locations", "At least one location is required.")
    locations = []
    for n, location in enumerate(requested):
        where = f"locations[{n}]"
        if not isinstance(location, dict):
            raise invalid(where, "A location must be an object.")
        if not isinstance(location.get("name"), str) or not location["name"].strip():
            raise invalid(f"{where}.name", "The Name field is required.")
        locations.append(
            {
                "name": location["name"].strip(),
                "address": _address(location.get("address"), f"{where}.address"),
                "contacts": _contacts(location.get("contacts"), f"{where}.contacts"),
                "customFields": _custom_fields(
                    location.get("customFields"), f"{where}.customFields"
                ),
                "tagTypeIds": _ids(location, "tagTypeIds"),
            }
        )
    contacts = _contacts(body.get("contacts"), "contacts")
    numbers = {}
    for field in ("creditLimit", "creditLimitBalance"):
        value = body.get(field)
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise invalid(field, f"{field} must be a number.")
        numbers[field] = None if value is None else float(value)
    payment_term = body.get("paymentTermId")
    if payment_term is not None and not is_id(payment_term):
        raise invalid("paymentTermId", "paymentTermId must be an id.")
    creator = m.u.id_of("employees", 0)
    customer = m.create_like(
        "customers",
        {
            "name": name.strip(),
            "type": kind,
            "address": address,
            "customFields": _custom_fields(body.get("customFields"), "customFields"),
            "balance": 0.0,
            "taxExempt": _flag(body, "taxExempt"),
            "tagTypeIds": _ids(body, "tagTypeIds"),
            "doNotMail": _flag(body, "doNotMail"),
            "doNotService": _flag(body, "doNotService"),
            "nationalAccount": _flag(body, "nationalAccount"),
            "createdById": creator,
            "mergedToId": None,
            "paymentTermId": payment_term,
            **numbers,
            "externalData": [],
        },
    )
    when = m.store.clock.now
    created_locations = []
    for location in locations:
        record = m.create_like(
            "locations",
            {
                "customerId": customer["id"],
                "name": location["name"],
                "address": location["address"],
                "customFields": location["customFields"],
                "tagTypeIds": location["tagTypeIds"],
                "createdById": creator,
                "mergedToId": None,
                "taxZoneId": None,
                "zoneId": None,
                "taxExempt": False,
                "externalData": [],
            },
            ticks=when,
        )
        created_locations.append(
            {**record, "contacts": _location_contacts(m, location["contacts"])}
        )
    m.customer_locations[customer["id"]] = [loc["id"] for loc in created_locations]
    created_contacts = [_customer_contact(m, customer, contact) for contact in contacts]
    return {
        **customer,
        "locations": created_locations,
        "contacts": [
            {"id": c["id"], "type": c["type"], "value": c["value"], "memo": c["memo"]}
            for c in created_contacts
        ],
    }


def tag_customer(m: TenantWriter, customer_id: int, tag_type_id: int) -> Record:
    """POST crm/customers/{id}/tags/{tagTypeId}: the tag joins the customer's (once)."""
    customer = m.require("customers", customer_id)
    tags = list(customer.get("tagTypeIds") or [])
    if tag_type_id not in tags:
        tags.append(tag_type_id)
        m.touch("customers", customer_id, {"tagTypeIds": tags})
    return {"customerId": customer_id, "tagTypeIds": tags}


def _contact_view(record: Record) -> Record:
    """A contact as `CustomerContactResponse` shows it."""
    keys = ("id", "type", "value", "memo", "phoneSettings", "modifiedOn", "createdOn")
    return {key: record.get(key) for key in keys} | {"preferences": record.get("preferences")}


def add_customer_contact(m: TenantWriter, customer_id: int, body: dict[str, Any]) -> Record:
    """POST crm/customers/{id}/contacts: a `CreateCustomerContactRequest` (type, value, memo;
    nothing else) becomes a contact of the customer."""
    unknown = sorted(set(body) - {"type", "value", "memo"})
    if unknown:
        raise invalid(unknown[0], f"Could not find member '{unknown[0]}' on object.")
    customer = m.require("customers", customer_id)
    contact = _contacts([body], "request")[0]
    return _contact_view(_customer_contact(m, customer, contact))


def update_customer_contact(
    m: TenantWriter, customer_id: int, contact_id: int, body: dict[str, Any]
) -> Record:
    """PATCH crm/customers/{id}/contacts/{contactId}: an `UpdateCustomerContactRequest` changes
    the type, value, memo or preferences of one contact of the customer."""
    unknown = sorted(set(body) - {"type", "value", "memo", "preferences"})
    if unknown:
        raise invalid(unknown[0], f"Could not find member '{unknown[0]}' on object.")
    m.require("customers", customer_id)
    current = m.require("customer-contacts", contact_id)
    if current.get("customerId") != customer_id:
        raise invalid(
            "contactId", f"Contact {contact_id} does not belong to customer {customer_id}."
        )
    merged = {
        "type": body.get("type", current["type"]),
        "value": body.get("value", current["value"]),
        "memo": body.get("memo", current.get("memo")),
    }
    checked = _contacts([merged], "request")[0]
    changes: Record = dict(checked)
    if checked["type"] in ("Phone", "MobilePhone"):
        settings = dict(current.get("phoneSettings") or {})
        changes["phoneSettings"] = {
            "phoneNumber": phone_digits(checked["value"]),
            "doNotText": bool(settings.get("doNotText")),
        }
    else:
        changes["phoneSettings"] = dict(NO_PHONE_SETTINGS)
    preferences = body.get("preferences")
    if preferences is not None:
        if not isinstance(preferences, dict):
            raise invalid("preferences", "preferences must be an object.")
        changes["preferences"] = {**(current.get("preferences") or {}), **preferences}
    m.touch("customer-contacts", contact_id, changes)
    return _contact_view(m.require("customer-contacts", contact_id))
