"""Estimate writes: creating an estimate and adding or changing its items.

Items may be any pricebook SKU (service, material or equipment). A line without `unitPrice`
takes the SKU's current price, so a pricebook change is what the next new line sees, while
existing lines keep the price they were sold at.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from perfect_catch.simulators.servicetitan.booking import is_id
from perfect_catch.simulators.servicetitan.records.sales import ESTIMATE_STATUSES
from perfect_catch.simulators.servicetitan.records.shared import Record
from perfect_catch.simulators.servicetitan.refusals import NotFound, invalid
from perfect_catch.simulators.servicetitan.timefmt import format_ticks
from perfect_catch.simulators.servicetitan.universe import ESTIMATE_ITEM_ID_BASE

if TYPE_CHECKING:
    from perfect_catch.simulators.servicetitan.writer import TenantWriter

# Pricebook entities an estimate item can point at, with the SKU type and ledger account id.
SKU_KINDS = (
    ("services", "Service", 4000),
    ("materials", "Material", 4100),
    ("pricebook-equipment", "Equipment", 4200),
)
# Items added through the API get ids above every generated one.
NEW_ITEM_ID_BASE = ESTIMATE_ITEM_ID_BASE + 5_000_000_000
STATUS_VALUES = {name: value for value, name in ESTIMATE_STATUSES.items()}
REVIEW_STATUSES = ("None", "NeedsApproval", "Approved", "NotApproved")


def _number(body: dict[str, Any], field: str, name: str) -> float | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise invalid(name, f"{field} must be a number.")
    return float(value)


def find_sku(m: TenantWriter, sku_id: Any, field: str = "skuId") -> tuple[Record, str, int]:
    """(current pricebook record, SKU type, ledger account id) of a SKU id."""
    if is_id(sku_id):
        for entity, kind, account_id in SKU_KINDS:
            record = m.store.get(entity, sku_id)
            if record is not None:
                return record, kind, account_id
    raise invalid(field, f"SKU {sku_id} not found.")


def sku_item(
    item_id: int, sku: tuple[Record, str, int], quantity: float, price: float, stamp: str
) -> Record:
    """An `EstimateItemResponse` for one line of a pricebook SKU."""
    record, kind, account_id = sku
    account = record.get("account") or f"{kind} Income"
    cost = float(record.get("cost") or 0.0)
    return {
        "id": item_id,
        "sku": {
            "id": record["id"],
            "name": record.get("code"),
            "displayName": record.get("displayName"),
            "type": kind,
            "soldHours": float(record.get("hours") or 0.0),
            "generalLedgerAccountId": account_id,
            "generalLedgerAccountName": account,
            "modifiedOn": record.get("modifiedOn"),
        },
        "skuAccount": account,
        "description": record.get("description") or record.get("displayName") or "",
        "membershipTypeId": None,
        "qty": quantity,
        "unitRate": price,
        "total": round(quantity * price, 2),
        "unitCost": cost,
        "totalCost": round(quantity * cost, 2),
        "itemGroupName": "",
        "itemGroupRootId": None,
        "createdOn": stamp,
        "modifiedOn": stamp,
        "chargeable": True,
        "invoiceItemId": None,
        "budgetCodeId": None,
    }


def _new_item_id(m: TenantWriter) -> int:
    m.item_ids += 1
    return NEW_ITEM_ID_BASE + m.item_ids


def _apply_item(
    m: TenantWriter, body: dict[str, Any], existing: Record | None, prefix: str, stamp: str
) -> Record:
    """A new or changed item from an `EstimateItemCreateUpdateRequest`."""
    quantity = _number(body, "quantity", f"{prefix}quantity")
    if quantity is not None and quantity <= 0:
        raise invalid(f"{prefix}quantity", "Quantity must be positive.")
    price = _number(body, "unitPrice", f"{prefix}unitPrice")
    if price is not None and price < 0:
        raise invalid(f"{prefix}unitPrice", "unitPrice must not be negative.")
    cost = _number(body, "unitCost", f"{prefix}unitCost")
    description = body.get("description")
    if description is not None and not isinstance(description, str):
        raise invalid(f"{prefix}description", "description must be a string.")
    chargeable = body.get("chargeable")
    if chargeable is not None and not isinstance(chargeable, bool):
        raise invalid(f"{prefix}chargeable", "chargeable must be true or false.")
    if existing is None:
        sku = find_sku(m, body.get("skuId"), f"{prefix}skuId")
        qty = 1.0 if quantity is None else quantity
        rate = float(sku[0].get("price") or 0.0) if price is None else price
        item = sku_item(_new_item_id(m), sku, qty, rate, stamp)
    else:
        item = existing
        qty = float(item["qty"]) if quantity is None else quantity
        rate = float(item["unitRate"]) if price is None else price
    item.update({"qty": qty, "unitRate": rate, "total": round(qty * rate, 2), "modifiedOn": stamp})
    if cost is not None:
        item["unitCost"] = cost
    item["totalCost"] = round(float(item["unitCost"]) * qty, 2)
    if description:
        item["description"] = description
    if chargeable is not None:
        item["chargeable"] = chargeable
    for field in ("itemGroupName", "itemGroupRootId", "budgetCodeId"):
        if body.get(field) is not None:
            item[field] = body[field]
    return item


def upsert_item(m: TenantWriter, estimate_id: int, body: dict[str, Any]) -> Record:
    """PUT sales/v2/tenant/{t}/estimates/{id}/items: add an item, or update one by `id`."""
    estimate = m.require("estimates", estimate_id)
    items: list[Record] = estimate.get("items") or []
    stamp = format_ticks(m.store.clock.now)
    item_id = body.get("id")
    existing = next((i for i in items if i["id"] == item_id), None) if item_id else None
    if item_id and existing is None:
        raise NotFound("estimate item", item_id)
    item = _apply_item(m, body, existing, "", stamp)
    if existing is None:
        items.append(item)
    estimate["items"] = items
    estimate["subtotal"] = round(sum(i["total"] for i in items), 2)
    m.store.put("estimates", estimate_id, estimate)
    return {**item, "estimateId": estimate_id}


def _optional(body: dict[str, Any], field: str, kind: type) -> Any:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise invalid(field, f"{field} must be a {kind.__name__}.")
    return value


def _status(m: TenantWriter, body: dict[str, Any]) -> tuple[int, int | None]:
    status = body.get("status") or "Open"
    if status not in STATUS_VALUES:
        raise invalid("status", f"status must be one of {', '.join(STATUS_VALUES)}.")
    sold_by = _optional(body, "soldBy", int)
    if sold_by is not None and not m.store.exists("technicians", sold_by):
        raise invalid("soldBy", f"Technician {sold_by} does not exist.")
    if status == "Sold" and sold_by is None:
        raise invalid("soldBy", "soldBy is required for a Sold estimate.")
    return STATUS_VALUES[status], sold_by


def _links(body: dict[str, Any]) -> list[Record]:
    links = body.get("externalLinks") or []
    if not isinstance(links, list) or not all(
        isinstance(link, dict) and isinstance(link.get("url"), str) for link in links
    ):
        raise invalid("externalLinks", "externalLinks must be a list of {name, url}.")
    return [{"name": link.get("name"), "url": link["url"]} for link in links]


def _target(m: TenantWriter, body: dict[str, Any]) -> tuple[Record | None, Record]:
    """The estimate's job (optional) and location, which must agree."""
    job_id = _optional(body, "jobId", int)
    location_id = _optional(body, "locationId", int)
    if job_id is None and location_id is None:
        raise invalid("locationId", "Either jobId or locationId is required.")
    job = m.require("jobs", job_id, "jobId") if job_id is not None else None
    if location_id is None:
        assert job is not None
        location_id = job["locationId"]
    elif job is not None and job["locationId"] != location_id:
        raise invalid("locationId", f"Location {location_id} is not the location of job {job_id}.")
    location = m.require("locations", location_id, "locationId")
    customer_id = _optional(body, "customerId", int)
    if customer_id is not None and customer_id != location["customerId"]:
        raise invalid(
            "customerId", f"Location {location_id} does not belong to customer {customer_id}."
        )
    return job, location


def create_estimate(m: TenantWriter, body: dict[str, Any]) -> Record:
    """POST sales/v2/tenant/{t}/estimates (`CreateEstimateRequest`)."""
    job, location = _target(m, body)
    name, summary = _optional(body, "name", str), _optional(body, "summary", str)
    tax = _number(body, "tax", "tax")
    status, sold_by = _status(m, body)
    review = body.get("reviewStatus") or "None"
    if review not in REVIEW_STATUSES:
        raise invalid("reviewStatus", f"reviewStatus must be one of {', '.join(REVIEW_STATUSES)}.")
    recommended = _optional(body, "isRecommended", bool)
    budget_code = _optional(body, "budgetCodeId", int)
    project_id = _optional(body, "projectId", int)
    links = _links(body)
    requested = body.get("items") or []
    if not isinstance(requested, list) or not all(isinstance(i, dict) for i in requested):
        raise invalid("items", "items must be a list of estimate items.")
    stamp = format_ticks(m.store.clock.tick())
    items = [
        _apply_item(m, {**line, "id": None}, None, f"items[{n}].", stamp)
        for n, line in enumerate(requested)
    ]
    unit = m.store.get("business-units", job["businessUnitId"]) if job else None
    estimate = m.create_like(
        "estimates",
        {
            "jobId": job["id"] if job else None,
            "jobNumber": job["jobNumber"] if job else None,
            "projectId": project_id,
            "locationId": location["id"],
            "customerId": job["customerId"] if job else location["customerId"],
            "name": name,
            "summary": summary,
            "status": {"value": status, "name": ESTIMATE_STATUSES[status]},
            "reviewStatus": review,
            "soldOn": stamp if status == 2 else None,
            "soldBy": sold_by,
            "items": items,
            "externalLinks": links,
            "subtotal": round(sum(i["total"] for i in items), 2),
            "tax": tax or 0.0,
            "businessUnitId": unit["id"] if unit else None,
            "businessUnitName": unit["name"] if unit else None,
            "isRecommended": bool(recommended),
            "budgetCodeId": budget_code,
            "isChangeOrder": False,
            "proposalTagName": None,
        },
    )
    if status == 1:
        m.open_estimates.append(estimate["id"])
    if job is not None:
        m.touch("jobs", job["id"], {"estimateIds": [*job.get("estimateIds", []), estimate["id"]]})
    return estimate
