"""Base records of every entity, each a pure function of (universe, index).

Field names and types follow the export response schemas of the official ServiceTitan OpenAPI
specs (e.g. `Crm.V2.ExportCustomerResponse`, `Accounting.V2.ExportInvoiceResponse`). Related
records agree with each other: an invoice names its job's customer, a job points at its first
appointment, a customer's address is that of its first location.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from perfect_catch.simulators.servicetitan import catalog as cat
from perfect_catch.simulators.servicetitan.timefmt import (
    TICKS_PER_DAY,
    TICKS_PER_SECOND,
    format_date,
    format_ticks,
)
from perfect_catch.simulators.servicetitan.universe import (
    ESTIMATE_ITEM_ID_BASE,
    ID_BASE,
    Draw,
    Universe,
)

Record = dict[str, Any]
HOUR = 3600 * TICKS_PER_SECOND
# Id bases of the hot generators, which add an index to them rather than call `u.id_of`.
_ID_JOBS, _ID_CUSTOMERS, _ID_LOCATIONS = ID_BASE["jobs"], ID_BASE["customers"], ID_BASE["locations"]
_ID_APPOINTMENTS, _ID_INVOICES = ID_BASE["appointments"], ID_BASE["invoices"]
_ID_ESTIMATES, _ID_EMPLOYEES = ID_BASE["estimates"], ID_BASE["employees"]
_ID_BUSINESS_UNITS, _ID_JOB_TYPES = ID_BASE["business-units"], ID_BASE["job-types"]
_ID_CAMPAIGNS, _ID_TECHNICIANS = ID_BASE["campaigns"], ID_BASE["technicians"]

ESTIMATE_STATUSES = {1: "Open", 2: "Sold", 3: "Dismissed"}


def money(cents: int) -> str:
    """ST accounting money: a decimal string with two places."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def _stamps(u: Universe, entity: str, index: int) -> tuple[str, str]:
    return format_ticks(u.created_ticks(entity, index)), format_ticks(
        u.modified_ticks(entity, index)
    )


# --- people and places -------------------------------------------------------------------------
# Hot generators take one 128-bit draw per record and peel fields off it with % and //: a method
# call per field would cost more than building the record.

_N_FIRST, _N_LAST = len(cat.FIRST_NAMES), len(cat.LAST_NAMES)


def person_name(u: Universe, customer_index: int) -> tuple[str, str]:
    h = u.bits("customers", customer_index, 1)
    return cat.FIRST_NAMES[h % _N_FIRST], cat.LAST_NAMES[h // _N_FIRST % _N_LAST]


def _name_and_type(h: int, index: int) -> tuple[str, str]:
    """A customer's name and type, from its bits of purpose 1."""
    last = cat.LAST_NAMES[h // _N_FIRST % _N_LAST]
    if h >> 100 & 127 < 12:
        return f"{last} {cat.COMPANY_SUFFIXES[index % len(cat.COMPANY_SUFFIXES)]}", "Commercial"
    return f"{cat.FIRST_NAMES[h % _N_FIRST]} {last}", "Residential"


def customer_name(u: Universe, index: int) -> str:
    return _name_and_type(u.bits("customers", index, 1), index)[0]


def customer_type(u: Universe, index: int) -> str:
    return _name_and_type(u.bits("customers", index, 1), index)[1]


# City, ZIP, and latitude / longitude in units of 1e-4 degree less the 1,000 of the largest
# offset: a coordinate is then one integer sum and one division, the same float as rounding
# `lat + offset / 10_000` to six places (checked for every city and offset by a test).
_CITY_PARTS = tuple(
    (city, zip_code, round(lat * 10_000) - 1000, round(lon * 10_000) - 1000)
    for city, zip_code, lat, lon in cat.CITIES
)
_N_STREETS, _N_STREET_TYPES = len(cat.STREET_NAMES), len(cat.STREET_TYPES)


def address(u: Universe, location_index: int) -> Record:
    h = u.bits("locations", location_index, 1)
    city, zip_code, lat, lon = _CITY_PARTS[h % 12]
    h //= 12
    unit = f"Unit {h % 300 + 1}" if h >> 9 & 15 == 0 else None
    h >>= 13
    number = h % 19_000 + 100
    h //= 19_000
    street = cat.STREET_NAMES[h % _N_STREETS]
    h //= _N_STREETS
    kind = cat.STREET_TYPES[h % _N_STREET_TYPES]
    h //= _N_STREET_TYPES
    return {
        "street": f"{number} {'NESW'[h & 3]} {street} {kind}",
        "unit": unit,
        "city": city,
        "state": "AZ",
        "zip": zip_code,
        "country": "USA",
        "latitude": (lat + (h >> 2) % 2000) / 10_000,
        "longitude": (lon + (h >> 13) % 2000) / 10_000,
    }


def phone_digits(d: Draw) -> str:
    return f"{d.pick(cat.AREA_CODES)}555{d.below(10_000):04d}"


def phone_from_bits(h: int) -> str:
    return f"{cat.AREA_CODES[h & 3]}555{(h >> 2) % 10_000:04d}"


def messy_phone(style: int, digits: str) -> str:
    """Phone numbers as office staff type them: E.164 sometimes, often not."""
    a, b, c = digits[:3], digits[3:6], digits[6:]
    match style % 8:
        case 0:
            return f"+1{digits}"
        case 1:
            return f"({a}) {b}-{c}"
        case 2:
            return f"{a}-{b}-{c}"
        case 3:
            return digits
        case 4:
            return f"{a}.{b}.{c}"
        case 5:
            return f"1 ({a}) {b} {c}"
        case 6:
            return f"{a}-{b}-{c} ext {style % 90 + 10}"
        case _:
            return f"+1 {a} {b} {c}"


# --- settings, marketing, pricebook ------------------------------------------------------------


def business_unit(u: Universe, i: int) -> Record:
    created, modified = _stamps(u, "business-units", i)
    name, division = cat.BUSINESS_UNITS[i % len(cat.BUSINESS_UNITS)]
    return {
        "id": u.id_of("business-units", i),
        "active": True,
        "name": name,
        "officialName": f"Perfect Catch Pool & Electric - {name}",
        "email": f"{name.lower().replace(' ', '.')}@perfectcatch.example",
        "currency": "USD",
        "phoneNumber": "6025550100",
        "invoiceHeader": None,
        "invoiceMessage": "Thank you for your business!",
        "defaultTaxRate": 0.086,
        "authorizationParagraph": None,
        "acknowledgementParagraph": None,
        "address": {
            "street": "4410 E Camelback Rd",
            "unit": None,
            "city": "Phoenix",
            "state": "AZ",
            "zip": "85018",
            "country": "USA",
            "latitude": 33.509,
            "longitude": -111.985,
            "isManualCoordinates": False,
            "isMilitary": False,
        },
        "materialSku": None,
        "quickbooksClass": division,
        "accountCode": None,
        "franchiseId": None,
        "conceptCode": None,
        "corporateContractNumber": None,
        "trade": {"id": 1 + (division == "Electrical"), "name": division},
        "division": {"id": 10 + i, "name": division},
        "tagTypeIds": [],
        "tenant": {
            "id": u.tenant_id,
            "name": "Perfect Catch Pool & Electric",
            "accountCode": None,
            "franchiseId": None,
            "conceptCode": None,
            "modifiedOn": modified,
        },
        "createdOn": created,
        "modifiedOn": modified,
        "externalData": [],
    }


def technician(u: Universe, i: int) -> Record:
    d = u.draw("technicians", i)
    created, modified = _stamps(u, "technicians", i)
    first, last = d.pick(cat.FIRST_NAMES), d.pick(cat.LAST_NAMES)
    bu = i % 5
    return {
        "id": u.id_of("technicians", i),
        "userId": 900_000 + i,
        "name": f"{first} {last}",
        "roleIds": [],
        "businessUnitId": u.id_of("business-units", bu),
        "mainZoneId": None,
        "zoneIds": [],
        "createdOn": created,
        "modifiedOn": modified,
        "email": f"{first.lower()}.{last.lower().replace(' ', '')}@perfectcatch.example",
        "phoneNumber": phone_digits(d),
        "loginName": f"{first[0].lower()}{last.lower()}",
        "home": None,
        "dailyGoal": float(1500 + 100 * d.below(10)),
        "isManagedTech": True,
        "licenseType": "ManagedTech",
        "customFields": [],
        "active": i != 13,
        "aadUserId": None,
        "burdenRate": 0.0,
        "team": "Pool" if bu < 3 else "Electrical",
        "jobFilter": None,
        "permissions": [],
        "accountLocked": False,
        "commissionRate": 0.05,
        "currentValue": None,
        "firstName": first,
        "lastName": last,
        "hourlyRate": float(24 + d.below(16)),
        "jobId": None,
        "mobilePhone": phone_digits(d),
        "outboundCallerId": None,
        "payrollId": f"P{1000 + i}",
        "payrollProfileId": None,
        "appoitmentId": None,
        "shiftStart": "07:00:00",
        "shiftEnd": "16:00:00",
        "soldByRate": 0.0,
        "startDate": format_date(u.created_ticks("technicians", i)),
        "status": "Idle",
        "skills": [],
        "positions": [cat.TECHNICIAN_POSITIONS[i % len(cat.TECHNICIAN_POSITIONS)]],
        "location": None,
        "bio": None,
        "memo": None,
    }


def employee(u: Universe, i: int) -> Record:
    d = u.draw("employees", i)
    created, modified = _stamps(u, "employees", i)
    first, last = d.pick(cat.FIRST_NAMES), d.pick(cat.LAST_NAMES)
    role = ("CSR", "Dispatch", "Accounting", "SalesManager", "GeneralOffice", "Admin")[i % 6]
    return {
        "customFields": [],
        "permissions": [],
        "id": u.id_of("employees", i),
        "userId": 800_000 + i,
        "name": f"{first} {last}",
        "firstName": first,
        "lastName": last,
        "managerId": None,
        "role": role,
        "roleIds": [],
        "businessUnitId": None,
        "createdOn": created,
        "modifiedOn": modified,
        "email": f"{first.lower()}@perfectcatch.example",
        "phoneNumber": phone_digits(d),
        "loginName": f"{first.lower()}{i}",
        "active": i < 22,
        "aadUserId": None,
        "accountLocked": False,
        "home": None,
        "agentId": 0,
        "startDate": format_date(u.created_ticks("employees", i)),
        "terminationDate": None,
        "hourlyRate": float(18 + d.below(12)),
        "overtimeProfileId": None,
    }


def job_type(u: Universe, i: int) -> Record:
    created, modified = _stamps(u, "job-types", i)
    name, bu, duration, priority = cat.JOB_TYPES[i % len(cat.JOB_TYPES)]
    return {
        "id": u.id_of("job-types", i),
        "name": name,
        "businessUnitIds": [u.id_of("business-units", bu)],
        "skills": [],
        "tagTypeIds": [],
        "priority": priority,
        "duration": duration,
        "soldThreshold": None,
        "class": None,
        "summary": None,
        "noCharge": name == "Warranty Call",
        "enforceRecurringServiceEventSelection": False,
        "invoiceSignaturesRequired": False,
        "modifiedOn": modified,
        "createdOn": created,
        "externalData": [],
        "active": True,
        "isSmartDispatched": False,
    }


def campaign(u: Universe, i: int) -> Record:
    created, modified = _stamps(u, "campaigns", i)
    name, category = cat.CAMPAIGNS[i % len(cat.CAMPAIGNS)]
    return {
        "id": u.id_of("campaigns", i),
        "name": name,
        "modifiedOn": modified,
        "createdOn": created,
        "active": name != "Direct Mail",
        "isDefaultCampaign": name == "Repeat Customer",
        "category": {"id": 100 + i, "name": category, "active": True},
        "source": None,
        "otherSource": None,
        "businessUnit": None,
        "medium": None,
        "otherMedium": None,
        "campaignPhoneNumbers": [f"480555{1000 + i:04d}"],
    }


def _vendor(i: int, cost: float) -> Record:
    name, vendor_id = cat.VENDORS[i % len(cat.VENDORS)]
    return {
        "id": 7_000_000 + i,
        "vendorName": name,
        "vendorId": vendor_id,
        "memo": None,
        "vendorPart": f"{name[:3].upper()}-{10_000 + i}",
        "cost": cost,
        "active": True,
        "primarySubAccount": None,
        "otherSubAccounts": [],
    }


def material(u: Universe, i: int) -> Record:
    created, modified = _stamps(u, "materials", i)
    name = cat.MATERIALS[i % len(cat.MATERIALS)]
    cost = round(4.5 + (i * 7.3) % 120, 2)
    return {
        "id": u.id_of("materials", i),
        "code": f"MAT-{100 + i}",
        "displayName": name,
        "description": name,
        "cost": cost,
        "active": True,
        "price": round(cost * 1.8, 2),
        "memberPrice": round(cost * 1.6, 2),
        "addOnPrice": round(cost * 1.7, 2),
        "addOnMemberPrice": round(cost * 1.5, 2),
        "hours": 0.0,
        "bonus": 0.0,
        "commissionBonus": 0.0,
        "paysCommission": False,
        "deductAsJobCost": False,
        "unitOfMeasure": "Each",
        "isInventory": True,
        "account": "Materials Income",
        "costOfSaleAccount": None,
        "assetAccount": None,
        "taxable": True,
        "primaryVendor": _vendor(i, cost),
        "otherVendors": [],
        "categories": [u.id_of("categories", i % 10)],
        "assets": [],
        "modifiedOn": modified,
        "source": None,
        "externalId": None,
        "externalData": [],
        "isConfigurableMaterial": False,
        "chargeableByDefault": True,
        "variationsOrConfigurableMaterials": [],
        "businessUnitId": None,
        "createdById": u.id_of("employees", 5),
        "createdOn": created,
        "displayInAmount": False,
        "generalLedgerAccountId": None,
        "isOtherDirectCost": False,
        "costTypeId": None,
        "defaultAssetUrl": None,
        "budgetCostCode": None,
        "budgetCostType": None,
    }


def pricebook_equipment(u: Universe, i: int) -> Record:
    created, modified = _stamps(u, "pricebook-equipment", i)
    name, maker, model = cat.EQUIPMENT[i % len(cat.EQUIPMENT)]
    cost = float(600 + (i * 431) % 5200)
    return {
        "id": u.id_of("pricebook-equipment", i),
        "code": f"EQ-{200 + i}",
        "displayName": name,
        "description": f"{maker} {model}",
        "active": True,
        "price": round(cost * 1.6, 2),
        "memberPrice": round(cost * 1.5, 2),
        "addOnPrice": round(cost * 1.55, 2),
        "addOnMemberPrice": round(cost * 1.45, 2),
        "manufacturer": maker,
        "model": model,
        "manufacturerWarranty": {"duration": 36, "description": "Manufacturer warranty"},
        "serviceProviderWarranty": {"duration": 12, "description": "Labor warranty"},
        "categories": [u.id_of("categories", 1 if i < 6 else 6)],
        "assets": [],
        "recommendations": [],
        "upgrades": [],
        "equipmentMaterials": [],
        "primaryVendor": _vendor(i, cost),
        "otherVendors": [],
        "account": "Equipment Income",
        "costOfSaleAccount": None,
        "assetAccount": None,
        "crossSaleGroup": None,
        "paysCommission": True,
        "bonus": 0.0,
        "commissionBonus": 0.0,
        "hours": 0.0,
        "taxable": True,
        "cost": cost,
        "unitOfMeasure": "Each",
        "isInventory": False,
        "modifiedOn": modified,
        "source": None,
        "externalId": None,
        "externalData": [],
        "isConfigurableEquipment": False,
        "variationsOrConfigurableEquipment": [],
        "typeId": None,
        "displayInAmount": False,
        "generalLedgerAccountId": None,
        "createdOn": created,
        "defaultAssetUrl": None,
        "dimensions": None,
        "budgetCostCode": None,
        "budgetCostType": None,
    }


def service(u: Universe, i: int) -> Record:
    created, modified = _stamps(u, "services", i)
    name, price, hours = cat.SERVICES[i % len(cat.SERVICES)]
    return {
        "id": u.id_of("services", i),
        "code": f"SVC-{300 + i}",
        "displayName": name,
        "description": name,
        "warranty": None,
        "categories": [
            {"id": u.id_of("categories", i % 10), "name": cat.CATEGORIES[i % 10], "active": True}
        ],
        "price": price,
        "memberPrice": round(price * 0.9, 2),
        "addOnPrice": price,
        "addOnMemberPrice": round(price * 0.9, 2),
        "taxable": False,
        "account": "Service Income",
        "hours": hours,
        "isLabor": True,
        "recommendations": [],
        "upgrades": [],
        "assets": [],
        "serviceMaterials": [],
        "serviceEquipment": [],
        "active": True,
        "crossSaleGroup": None,
        "paysCommission": True,
        "bonus": 0.0,
        "commissionBonus": 0.0,
        "modifiedOn": modified,
        "source": None,
        "externalId": None,
        "externalData": [],
        "businessUnitId": None,
        "cost": round(price * 0.35, 2),
        "createdOn": created,
        "soldByCommission": 0.0,
        "defaultAssetUrl": None,
        "budgetCostCode": None,
        "budgetCostType": None,
    }


def category(u: Universe, i: int) -> Record:
    created, modified = _stamps(u, "categories", i)
    return {
        "id": u.id_of("categories", i),
        "name": cat.CATEGORIES[i % len(cat.CATEGORIES)],
        "active": True,
        "description": None,
        "image": None,
        "parentId": None,
        "position": i,
        "categoryType": "Services" if i in (0, 3, 5) else "Materials",
        "subcategories": [],
        "businessUnitIds": [],
        "skuImages": [],
        "skuVideos": [],
        "source": None,
        "externalId": None,
        "hideInMobile": False,
        "createdOn": created,
        "modifiedOn": modified,
    }


# --- CRM -----------------------------------------------------------------------------------------


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
    name, kind = _name_and_type(u.bits("customers", i, 1), i)
    _, n_customers, n_locations, *_ = _counts(u)
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
        phone_settings = None
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


# --- jobs and dispatch ---------------------------------------------------------------------------

_OPEN_JOB_STATUSES = ("Scheduled", "Scheduled", "Dispatched", "InProgress", "Hold")


def job_status(u: Universe, i: int) -> str:
    h = u.bits("jobs", i, 3)
    if u.recency("jobs", i) > 0.98:
        return _OPEN_JOB_STATUSES[h % 5]
    return "Canceled" if h % 100 < 7 else "Completed"


def job_number(job_id: int) -> str:
    return str(job_id - 40_000_000 + 10_250)


def job_type_index(u: Universe, job_index: int) -> int:
    return u.bits("jobs", job_index) % len(cat.JOB_TYPES)


_N_JOB_TYPES, _N_NOTES = len(cat.JOB_TYPES), len(cat.CUSTOMER_NOTES)
_N_CAMPAIGNS = len(cat.CAMPAIGNS)
# Per job type: the summary prefix and the fields fixed by the type.
_JOB_TYPE_PARTS = tuple(
    (f"{name} - ", _ID_BUSINESS_UNITS + bu, _ID_JOB_TYPES + jt, priority, name == "Warranty Call")
    for jt, (name, bu, _, priority) in enumerate(cat.JOB_TYPES)
)
_JOB_SUMMARIES = tuple(
    tuple(f"{prefix}{note}" for note in cat.CUSTOMER_NOTES) for prefix, *_ in _JOB_TYPE_PARTS
)


def _counts(u: Universe) -> tuple[int, int, int, int, int, int, int]:
    """Counts the hot generators (jobs, customers) divide by, looked up once per universe."""
    counts = u.memo.get("job_counts")
    if counts is None:
        c = u.counts
        counts = u.memo["job_counts"] = (
            c["jobs"],
            c["customers"],
            c["locations"],
            c["appointments"],
            c["invoices"],
            c["estimates"],
            c["invoice-items"],
        )
    return counts


def job(u: Universe, i: int) -> Record:
    # Same values as the plain calls (`u.parent`, `u.children`, `u.id_of`, `job_status`,
    # `invoice_total_cents`), with their arithmetic inlined: this is the hottest generator.
    n_jobs, n_customers, n_locations, n_appointments, n_invoices, n_estimates, _ = _counts(u)
    h = u.bits("jobs", i)
    jt = h % _N_JOB_TYPES
    h //= _N_JOB_TYPES
    modified_t = u.modified_ticks("jobs", i)
    created_t = u.created_ticks("jobs", i, modified_t)
    customer_index = i * n_customers // n_jobs
    first_appointment = -(-i * n_appointments // n_jobs)
    appointment_count = -(-(i + 1) * n_appointments // n_jobs) - first_appointment
    first_invoice = -(-i * n_invoices // n_jobs)
    has_invoice = -(-(i + 1) * n_invoices // n_jobs) > first_invoice
    first_estimate = -(-i * n_estimates // n_jobs)
    end_estimate = -(-(i + 1) * n_estimates // n_jobs)
    status_bits = u.bits("jobs", i, 3)
    if i / max(1, n_jobs) > 0.98:
        status = _OPEN_JOB_STATUSES[status_bits % 5]
    else:
        status = "Canceled" if status_bits % 100 < 7 else "Completed"
    job_id = _ID_JOBS + i
    _, bu_id, job_type_id, priority, no_charge = _JOB_TYPE_PARTS[jt]
    return {
        "summary": _JOB_SUMMARIES[jt][h % _N_NOTES],
        "customFields": [],
        "externalData": [],
        "id": job_id,
        "jobNumber": str(job_id - 40_000_000 + 10_250),
        "projectId": None,
        "customerId": _ID_CUSTOMERS + customer_index,
        "locationId": _ID_LOCATIONS + -(-customer_index * n_locations // n_customers),
        "jobStatus": status,
        "completedOn": format_ticks(created_t + (2 + (h >> 8) % 96) * HOUR)
        if status == "Completed"
        else None,
        "businessUnitId": bu_id,
        "jobTypeId": job_type_id,
        "priority": priority,
        "campaignId": _ID_CAMPAIGNS + (h >> 16) % _N_CAMPAIGNS,
        "appointmentCount": appointment_count,
        "firstAppointmentId": _ID_APPOINTMENTS + first_appointment,
        "lastAppointmentId": _ID_APPOINTMENTS + first_appointment + appointment_count - 1,
        "recallForId": None,
        "warrantyId": None,
        "jobGeneratedLeadSource": None,
        "noCharge": no_charge,
        "notificationsEnabled": True,
        "createdOn": format_ticks(created_t),
        "createdById": _ID_EMPLOYEES + (h >> 24) % 6,
        "modifiedOn": format_ticks(modified_t),
        "tagTypeIds": [],
        "leadCallId": None,
        "partnerLeadCallId": None,
        "bookingId": None,
        "soldById": _ID_TECHNICIANS + (h >> 32) % 14 if h >> 40 & 3 == 0 else None,
        "customerPo": "",
        "invoiceId": _ID_INVOICES + first_invoice if has_invoice else 0,
        "membershipId": None,
        "total": invoice_total_cents(u, first_invoice) / 100 if has_invoice else None,
        "createdFromEstimateId": None,
        "estimateIds": list(range(_ID_ESTIMATES + first_estimate, _ID_ESTIMATES + end_estimate)),
        "active": True,
    }


_APPOINTMENT_STATUS = {"Completed": "Done", "InProgress": "Working"}
_ASSIGNMENT_STATUS = {"Completed": "Done", "InProgress": "Working", "Dispatched": "Dispatched"}


def _appointment_start(u: Universe, job_index: int, h: int) -> int:
    return u.created_ticks("jobs", job_index) // TICKS_PER_DAY * TICKS_PER_DAY + (
        (1 + h % 10) * TICKS_PER_DAY + (14 + 2 * (h >> 4) % 5) * HOUR
    )


def assignment_technician_index(u: Universe, i: int) -> int:
    """Technician index of base assignment `i` (of base appointment `i`)."""
    return u.bits("appointment-assignments", i) % 14


def base_booking(u: Universe, i: int) -> tuple[int, int, int] | None:
    """(start, end, technician id) of base appointment `i` as its base records have it, or None
    when it is canceled: what a schedule needs, without building two records."""
    job_index = u.parent("appointments", "jobs", i)
    if job_status(u, job_index) == "Canceled":
        return None
    start = _appointment_start(u, job_index, u.bits("appointments", i))
    return start, start + 2 * HOUR, u.id_of("technicians", assignment_technician_index(u, i))


def appointment(u: Universe, i: int) -> Record:
    h = u.bits("appointments", i)
    modified_t = u.modified_ticks("appointments", i)
    job_index = u.parent("appointments", "jobs", i)
    job_id = u.id_of("jobs", job_index)
    start = _appointment_start(u, job_index, h)
    status = job_status(u, job_index)
    sequence = i - u.children("jobs", "appointments", job_index).start + 1
    return {
        "id": u.id_of("appointments", i),
        "jobId": job_id,
        "appointmentNumber": f"{job_number(job_id)}-{sequence}",
        "start": format_ticks(start),
        "end": format_ticks(start + 2 * HOUR),
        "arrivalWindowStart": format_ticks(start),
        "arrivalWindowEnd": format_ticks(start + 4 * HOUR),
        "status": _APPOINTMENT_STATUS.get(status, status),
        "specialInstructions": cat.CUSTOMER_NOTES[(h >> 8) % len(cat.CUSTOMER_NOTES)]
        if h >> 16 & 3 == 0
        else None,
        "createdOn": format_ticks(u.created_ticks("appointments", i, modified_t)),
        "modifiedOn": format_ticks(modified_t),
        "customerId": u.id_of("customers", u.parent("jobs", "customers", job_index)),
        "unused": False,
        "createdById": u.id_of("employees", (h >> 20) % 6),
        "isConfirmed": status != "Scheduled",
        "active": status != "Canceled",
    }


def technician_name(u: Universe, index: int) -> str:
    """Same draws as `technician`, so assignments name the technician's record."""
    names = u.memo.get("technician_names")
    if names is None:
        names = []
        for k in range(u.counts["technicians"]):
            d = u.draw("technicians", k)
            names.append(f"{d.pick(cat.FIRST_NAMES)} {d.pick(cat.LAST_NAMES)}")
        u.memo["technician_names"] = names
    return names[index % len(names)]


def appointment_assignment(u: Universe, i: int) -> Record:
    modified_t = u.modified_ticks("appointment-assignments", i)
    created = format_ticks(u.created_ticks("appointment-assignments", i, modified_t))
    job_index = u.parent("appointments", "jobs", i)
    tech = assignment_technician_index(u, i)
    status = job_status(u, job_index)
    return {
        "id": u.id_of("appointment-assignments", i),
        "technicianId": u.id_of("technicians", tech),
        "technicianName": technician_name(u, tech),
        "assignedById": u.id_of("employees", 1),
        "assignedOn": created,
        "status": _ASSIGNMENT_STATUS.get(status, "Scheduled"),
        "isPaused": False,
        "jobId": u.id_of("jobs", job_index),
        "appointmentId": u.id_of("appointments", i),
        "createdOn": created,
        "modifiedOn": format_ticks(modified_t),
        "active": status != "Canceled",
    }


# --- sales and accounting ------------------------------------------------------------------------


def estimate_item(u: Universe, item_id: int, service_index: int, qty: float, stamp: str) -> Record:
    name, price, hours = cat.SERVICES[service_index]
    return {
        "id": item_id,
        "sku": {
            "id": u.id_of("services", service_index),
            "name": f"SVC-{300 + service_index}",
            "displayName": name,
            "type": "Service",
            "soldHours": hours,
            "generalLedgerAccountId": 4000,
            "generalLedgerAccountName": "Service Income",
            "modifiedOn": stamp,
        },
        "skuAccount": "Service Income",
        "description": name,
        "membershipTypeId": None,
        "qty": qty,
        "unitRate": price,
        "total": round(qty * price, 2),
        "unitCost": round(price * 0.35, 2),
        "totalCost": round(qty * price * 0.35, 2),
        "itemGroupName": "",
        "itemGroupRootId": None,
        "createdOn": stamp,
        "modifiedOn": stamp,
        "chargeable": True,
        "invoiceItemId": None,
        "budgetCodeId": None,
    }


def estimate_status(u: Universe, i: int) -> int:
    if u.recency("estimates", i) > 0.95:
        return 1
    roll = u.bits("estimates", i, 5) % 100
    return 2 if roll < 55 else 3 if roll < 90 else 1


def estimate(u: Universe, i: int) -> Record:
    h = u.bits("estimates", i)
    modified_t = u.modified_ticks("estimates", i)
    created_t = u.created_ticks("estimates", i, modified_t)
    created = format_ticks(created_t)
    job_index = u.parent("estimates", "jobs", i)
    has_job = h % 100 >= 12
    h //= 100
    customer_index = u.parent("jobs", "customers", job_index)
    items = []
    for k in range(1 + (h & 3)):
        h >>= 2
        items.append(
            estimate_item(
                u,
                ESTIMATE_ITEM_ID_BASE + i * 8 + k,
                (h >> 2) % len(cat.SERVICES),
                1.0 + (h >> 6 & 1),
                created,
            )
        )
    h >>= 16
    subtotal = round(sum(item["total"] for item in items), 2)
    status = estimate_status(u, i)
    job_id = u.id_of("jobs", job_index)
    bu = h % len(cat.BUSINESS_UNITS)
    return {
        "id": u.id_of("estimates", i),
        "jobId": job_id if has_job else None,
        "projectId": None,
        "locationId": u.id_of("locations", first_location(u, customer_index)),
        "customerId": u.id_of("customers", customer_index),
        "name": f"{items[0]['sku']['displayName']} Proposal",
        "jobNumber": job_number(job_id) if has_job else None,
        "status": {"value": status, "name": ESTIMATE_STATUSES[status]},
        "reviewStatus": "None",
        "summary": items[0]["description"],
        "createdOn": created,
        "modifiedOn": format_ticks(modified_t),
        "soldOn": format_ticks(created_t + (1 + (h >> 4) % 20) * TICKS_PER_DAY)
        if status == 2
        else None,
        "soldBy": u.id_of("technicians", (h >> 10) % 14) if status == 2 else None,
        "active": True,
        "items": items,
        "externalLinks": [],
        "subtotal": subtotal,
        "tax": 0.0,
        "businessUnitId": u.id_of("business-units", bu),
        "businessUnitName": cat.BUSINESS_UNITS[bu][0],
        "isRecommended": h >> 16 & 3 == 0,
        "budgetCodeId": None,
        "isChangeOrder": False,
        "proposalTagName": None,
    }


def _named(entity_id: int, name: str | None) -> Record:
    return {"id": entity_id, "name": name}


def invoice_item_parts(u: Universe, i: int) -> tuple[int, int, int, str]:
    """(sku index, quantity, unit price cents, type) of invoice item `i`."""
    h = u.bits("invoice-items", i)
    if h % 3 == 0:
        sku = (h >> 4) % len(cat.MATERIALS)
        return sku, 1 + (h >> 12) % 4, 450 + (sku * 730) % 12_000, "Material"
    sku = (h >> 4) % len(cat.SERVICES)
    return sku, 1, int(cat.SERVICES[sku][1] * 100), "Service"


_N_MATERIALS, _N_SERVICES = len(cat.MATERIALS), len(cat.SERVICES)
_SERVICE_CENTS = tuple(int(price * 100) for _, price, _ in cat.SERVICES)


def invoice_total_cents(u: Universe, invoice_index: int) -> int:
    """Total of an invoice's items with tax: `invoice_item_parts` of each, inlined."""
    n_invoices, n_items = u.counts["invoices"], u.counts["invoice-items"]
    bits = u.bits
    first = -(-invoice_index * n_items // n_invoices)
    end = -(-(invoice_index + 1) * n_items // n_invoices)
    total = 0
    for k in range(first, end):
        h = bits("invoice-items", k)
        if h % 3 == 0:
            cost = (1 + (h >> 12) % 4) * (450 + ((h >> 4) % _N_MATERIALS * 730) % 12_000)
            total += cost + cost * 86 // 1000
        else:
            total += _SERVICE_CENTS[(h >> 4) % _N_SERVICES]
    return total


_GL_SERVICE = {
    "id": 4000,
    "name": "Service Income",
    "number": "4000",
    "type": "Income",
    "detailType": "Sales",
}
_GL_MATERIAL = {
    "id": 4001,
    "name": "Materials Income",
    "number": "4001",
    "type": "Income",
    "detailType": "Sales",
}


_ITEM_TEMPLATES: dict[tuple[int, int, int, str], Record] = {}
_ITEM_CENTS: dict[str, int] = {}


def _invoice_item_template(u: Universe, sku: int, qty: int, cents: int, kind: str) -> Record:
    """Fields fixed by (SKU, quantity): built once, copied per record."""
    key = (sku, qty, cents, kind)
    template = _ITEM_TEMPLATES.get(key)
    if template is None:
        material = kind == "Material"
        name = cat.MATERIALS[sku] if material else cat.SERVICES[sku][0]
        template = {
            "id": 0,
            "description": name,
            "quantity": f"{qty}.00",
            "cost": money(cents * 35 // 100),
            "totalCost": money(qty * cents * 35 // 100),
            "budgetCodeId": None,
            "inventoryLocationId": None,
            "inventoryLocation": None,
            "price": money(cents),
            "type": kind,
            "skuName": name,
            "skuId": u.id_of("materials" if material else "services", sku),
            "total": money(qty * cents),
            "inventory": material,
            "taxable": material,
            "isChargeable": True,
            "generalLedgerAccount": _GL_MATERIAL if material else _GL_SERVICE,
            "costOfSaleAccount": None,
            "assetAccount": None,
            "membershipTypeId": 0,
            "itemGroup": None,
            "displayName": name,
            "soldHours": None if material else cat.SERVICES[sku][2],
            "createdOn": "",
            "modifiedOn": "",
            "serviceDate": "",
            "order": 0,
            "businessUnit": None,
            "createdById": None,
            "displayInAmount": True,
            "importId": None,
            "exportId": None,
            "inventoryStatus": None,
            "addOn": False,
            "memberPrice": None,
            "technicianId": None,
            "installedEquipmentId": None,
            "estimateItemId": None,
            "active": True,
            "invoiceId": 0,
        }
        _ITEM_TEMPLATES[key] = template
        _ITEM_CENTS[template["total"]] = qty * cents
    return template


def invoice_item(u: Universe, i: int, invoice_index: int | None = None) -> Record:
    modified_t = u.modified_ticks("invoice-items", i)
    created = format_ticks(u.created_ticks("invoice-items", i, modified_t))
    if invoice_index is None:
        invoice_index = u.parent("invoice-items", "invoices", i)
    record = dict(_invoice_item_template(u, *invoice_item_parts(u, i)))
    record["id"] = u.id_of("invoice-items", i)
    record["createdOn"] = record["serviceDate"] = created
    record["modifiedOn"] = format_ticks(modified_t)
    record["order"] = i - u.children("invoices", "invoice-items", invoice_index).start + 1
    record["invoiceId"] = u.id_of("invoices", invoice_index)
    return record


_SALES_TAX = {"id": 1, "name": "Maricopa County", "taxRate": 0.086}


def invoice(u: Universe, i: int) -> Record:
    h = u.bits("invoices", i)
    modified_t = u.modified_ticks("invoices", i)
    created_t = u.created_ticks("invoices", i, modified_t)
    job_index = u.parent("invoices", "jobs", i)
    customer_index = u.parent("jobs", "customers", job_index)
    location_index = first_location(u, customer_index)
    items = [invoice_item(u, k, i) for k in u.children("invoices", "invoice-items", i)]
    subtotal = tax = 0
    for item in items:
        cents = _ITEM_CENTS[item["total"]]
        subtotal += cents
        if item["taxable"]:
            tax += cents * 86 // 1000
    total = subtotal + tax
    paid = u.recency("invoices", i) <= 0.97 and (h >> 20) % 100 < 93
    job_id = u.id_of("jobs", job_index)
    bu = h % len(cat.BUSINESS_UNITS)
    full_address = address(u, location_index)
    del full_address["latitude"], full_address["longitude"]
    name = customer_name(u, customer_index)
    return {
        "summary": items[0]["description"] if items else None,
        "items": items,
        "customFields": [],
        "active": True,
        "discountTotal": "0.00",
        "importId": None,
        "exportId": None,
        "materialSkuId": None,
        "membershipId": None,
        "paidOn": format_ticks(created_t + (1 + (h >> 4) % 25) * TICKS_PER_DAY) if paid else None,
        "invoiceConfiguration": "JobInvoice",
        "id": u.id_of("invoices", i),
        "syncStatus": "Exported" if paid else "Pending",
        "budgetCodeId": None,
        "referenceNumber": job_number(job_id),
        "invoiceDate": format_date(created_t),
        "dueDate": format_date(created_t + 30 * TICKS_PER_DAY),
        "subTotal": money(subtotal),
        "salesTax": money(tax),
        "salesTaxCode": _SALES_TAX,
        "taxZoneId": None,
        "total": money(total),
        "balance": money(0 if paid else total),
        "invoiceType": None,
        "customer": _named(u.id_of("customers", customer_index), name),
        "customerAddress": full_address,
        "location": _named(u.id_of("locations", location_index), name),
        "locationAddress": full_address,
        "businessUnit": _named(u.id_of("business-units", bu), cat.BUSINESS_UNITS[bu][0]),
        "termName": "Net 30",
        "createdBy": "system",
        "batch": None,
        "depositedOn": None,
        "createdOn": format_ticks(created_t),
        "modifiedOn": format_ticks(modified_t),
        "adjustmentToId": None,
        "job": {
            "id": job_id,
            "number": job_number(job_id),
            "type": cat.JOB_TYPES[job_type_index(u, job_index)][0],
        },
        "projectId": None,
        "royalty": None,
        "employeeInfo": None,
        "commissionEligibilityDate": None,
        "sentStatus": "Sent" if h >> 10 & 3 else "NotSent",
        "reviewStatus": "Reviewed",
        "assignedTo": None,
    }


_PAYMENT_TYPES = ("Credit Card", "Check", "Cash", "ACH")


def payment(u: Universe, i: int) -> Record:
    h = u.bits("payments", i)
    modified_t = u.modified_ticks("payments", i)
    created = format_ticks(u.created_ticks("payments", i, modified_t))
    invoice_index = u.parent("payments", "invoices", i)
    job_index = u.parent("invoices", "jobs", invoice_index)
    customer_index = u.parent("jobs", "customers", job_index)
    amount = money(invoice_total_cents(u, invoice_index))
    kind = _PAYMENT_TYPES[h & 3]
    return {
        "active": True,
        "appliedTo": [
            {
                "appliedAmount": amount,
                "appliedBy": "system",
                "appliedId": 130_000_000 + i,
                "appliedOn": created,
                "appliedTo": u.id_of("invoices", invoice_index),
                "appliedToReferenceNumber": job_number(u.id_of("jobs", job_index)),
            }
        ],
        "authCode": f"{(h >> 4) % 1_000_000:06d}" if kind == "Credit Card" else None,
        "batch": None,
        "businessUnit": None,
        "checkNumber": str(1000 + (h >> 24) % 9000) if kind == "Check" else None,
        "createdBy": "system",
        "createdOn": created,
        "customer": _named(u.id_of("customers", customer_index), customer_name(u, customer_index)),
        "customFields": [],
        "date": created,
        "deposit": None,
        "generalLedgerAccount": None,
        "id": u.id_of("payments", i),
        "memo": None,
        "modifiedOn": format_ticks(modified_t),
        "referenceNumber": f"PMT-{i + 5000}",
        "refundedPaymentId": None,
        "syncStatus": "Exported",
        "total": amount,
        "type": kind,
        "typeId": str(1 + (h & 3)),
        "unappliedAmount": "0.00",
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


GENERATORS: dict[str, Callable[[Universe, int], Record]] = {
    "customers": customer,
    "locations": location,
    "customer-contacts": customer_contact,
    "jobs": job,
    "appointments": appointment,
    "appointment-assignments": appointment_assignment,
    "estimates": estimate,
    "invoices": invoice,
    "invoice-items": invoice_item,
    "payments": payment,
    "installed-equipment": installed_equipment,
    "technicians": technician,
    "employees": employee,
    "business-units": business_unit,
    "job-types": job_type,
    "campaigns": campaign,
    "materials": material,
    "pricebook-equipment": pricebook_equipment,
    "services": service,
    "categories": category,
}
