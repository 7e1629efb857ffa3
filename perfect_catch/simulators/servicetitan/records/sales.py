"""Estimates and their items."""

from __future__ import annotations

from perfect_catch.simulators.servicetitan import catalog as cat
from perfect_catch.simulators.servicetitan.records.crm import first_location
from perfect_catch.simulators.servicetitan.records.jobs import job_number
from perfect_catch.simulators.servicetitan.records.shared import Record
from perfect_catch.simulators.servicetitan.timefmt import TICKS_PER_DAY, format_ticks
from perfect_catch.simulators.servicetitan.universe import ESTIMATE_ITEM_ID_BASE, Universe

ESTIMATE_STATUSES = {1: "Open", 2: "Sold", 3: "Dismissed"}


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
