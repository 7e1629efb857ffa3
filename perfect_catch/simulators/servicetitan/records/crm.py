"""Customers, their locations and contacts, and the equipment installed at their locations."""

from __future__ import annotations

from perfect_catch.simulators.servicetitan import catalog as cat
from perfect_catch.simulators.servicetitan.records.people import (
    address,
    customer_name,
    messy_phone,
    name_and_type,
    person_name,
    phone_from_bits,
)
from perfect_catch.simulators.servicetitan.records.shared import Record, hot_counts
from perfect_catch.simulators.servicetitan.timefmt import TICKS_PER_DAY, format_date, format_ticks
from perfect_catch.simulators.servicetitan.universe import ID_BASE, Universe

# Id bases `customer` adds an index to, rather than call `u.id_of`.
_ID_CUSTOMERS, _ID_EMPLOYEES = ID_BASE["customers"], ID_BASE["employees"]


def first_location(u: Universe, customer_index: int) -> int:
    return u.children("customers", "locations", customer_index).start


_POOL_TYPES = ("Chlorine", "Salt", "None")


def customer(u: Universe, i: int) -> Record:
    # Same values as the plain calls (`u.id_of`, `first_location`, `address`), inlined: the
    # customers feed is the largest.
    h = u.bits("customers", i)
    modified_t = u.modified_ticks("customers", i)
    roll = h % 100
    merged_to = _ID_CUSTOMERS + i - 1 - (h >> 8) % min(i, 50) if roll < 2 and i else None
    name, kind = name_and_type(u.bits("customers", i, 1), i)
    _, n_customers, n_locations, *_ = hot_counts(u)
    return {
        "id": _ID_CUSTOMERS + i,
        "active": roll >= 5 and merged_to is None,
        "name": name,
        "type": kind,
        "address": address(u, -(-i * n_locations // n_customers)),
        "customFields": [{"typeId": 501, "name": "Pool Type", "value": _POOL_TYPES[h >> 16 & 1]}],
        "balance": ((h >> 20) % 40) * 12.5 if h >> 28 & 7 == 0 else 0.0,
        "taxExempt": False,
        "tagTypeIds": [],
        "doNotMail": h >> 32 & 31 == 0,
        "doNotService": False,
        "nationalAccount": False,
        "createdOn": format_ticks(u.created_ticks("customers", i, modified_t)),
        "createdById": _ID_EMPLOYEES + (h >> 40) % 6,
        "modifiedOn": format_ticks(modified_t),
        "mergedToId": merged_to,
        "paymentTermId": None,
        "creditLimit": None,
        "creditLimitBalance": None,
        "externalData": [],
    }


def location(u: Universe, i: int) -> Record:
    h = u.bits("locations", i, 2)
    modified_t = u.modified_ticks("locations", i)
    customer_index = u.parent("locations", "customers", i)
    first = first_location(u, customer_index)
    merged_to = u.id_of("locations", first) if i != first and h & 3 == 0 else None
    name = customer_name(u, customer_index)
    return {
        "taxZoneId": None,
        "id": u.id_of("locations", i),
        "customerId": u.id_of("customers", customer_index),
        "active": merged_to is None and (h >> 2) % 40 != 0,
        "name": name if i == first else f"{name} - Rental",
        "address": address(u, i),
        "customFields": [],
        "createdOn": format_ticks(u.created_ticks("locations", i, modified_t)),
        "createdById": u.id_of("employees", (h >> 12) % 6),
        "modifiedOn": format_ticks(modified_t),
        "mergedToId": merged_to,
        "zoneId": None,
        "taxExempt": False,
        "tagTypeIds": [],
        "externalData": [],
    }


# ServiceTitan's contact models require `phoneSettings` and do not allow null; an e-mail contact
# carries no number and is never opted out of texts.
NO_PHONE_SETTINGS: Record = {"phoneNumber": "", "doNotText": False}
_MEMOS = ("cell", "home", "office", None, None, None, None, None)


def customer_contact(u: Universe, i: int) -> Record:
    h = u.bits("customer-contacts", i)
    modified_t = u.modified_ticks("customer-contacts", i)
    customer_index = u.parent("customer-contacts", "customers", i)
    position = i - u.children("customers", "customer-contacts", customer_index).start
    digits = phone_from_bits(h)
    h >>= 20
    if position == 1:
        first, last = person_name(u, customer_index)
        kind = "Email"
        suffix = str(h % 100) if h >> 7 & 3 == 0 else ""
        local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
        value = f"{local}{suffix}@{cat.EMAIL_DOMAINS[(h >> 9) % len(cat.EMAIL_DOMAINS)]}"
        phone_settings = dict(NO_PHONE_SETTINGS)
    else:
        kind = "MobilePhone" if position == 0 and h >> 12 & 3 else "Phone"
        value = messy_phone(h >> 14 & 255, digits)
        phone_settings = {"phoneNumber": digits, "doNotText": h >> 22 & 15 == 0}
    return {
        "modifiedOn": format_ticks(modified_t),
        "phoneSettings": phone_settings,
        "createdOn": format_ticks(u.created_ticks("customer-contacts", i, modified_t)),
        "preferences": {
            "jobRemindersEnabled": True,
            "marketingUpdatesEnabled": h >> 26 & 3 != 0,
            "invoiceStatementNotification": kind == "Email",
        },
        "id": u.id_of("customer-contacts", i),
        "type": kind,
        "value": value,
        "memo": _MEMOS[h >> 28 & 7],
        "customerId": u.id_of("customers", customer_index),
        "active": (h >> 32) % 25 != 0,
    }


def installed_equipment(u: Universe, i: int) -> Record:
    h = u.bits("installed-equipment", i)
    modified_t = u.modified_ticks("installed-equipment", i)
    created_t = u.created_ticks("installed-equipment", i, modified_t)
    location_index = u.parent("installed-equipment", "locations", i)
    equipment_index = h % len(cat.EQUIPMENT)
    name, maker, model = cat.EQUIPMENT[equipment_index]
    installed = format_date(created_t)
    return {
        "id": u.id_of("installed-equipment", i),
        "active": True,
        "equipmentId": u.id_of("pricebook-equipment", equipment_index),
        "locationId": u.id_of("locations", location_index),
        "customerId": u.id_of("customers", u.parent("locations", "customers", location_index)),
        "invoiceItemId": None,
        "name": name,
        "type": {"id": 1 + equipment_index, "name": name},
        "installedOn": installed,
        "createdOn": format_ticks(created_t),
        "modifiedOn": format_ticks(modified_t),
        "serialNumber": f"{maker[:2].upper()}{(h >> 8) % 10**9:09d}",
        "barcodeId": None,
        "memo": "",
        "manufacturer": maker,
        "model": model,
        "cost": float(cat.SERVICES[equipment_index % len(cat.SERVICES)][1]),
        "status": "Installed",
        "manufacturerWarrantyStart": installed,
        "manufacturerWarrantyEnd": format_date(created_t + 3 * 365 * TICKS_PER_DAY),
        "serviceProviderWarrantyStart": installed,
        "serviceProviderWarrantyEnd": format_date(created_t + 365 * TICKS_PER_DAY),
        "tags": [],
    }
