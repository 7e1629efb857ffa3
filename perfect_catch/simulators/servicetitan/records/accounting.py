"""Invoices, their items, and payments."""

from __future__ import annotations

from perfect_catch.simulators.servicetitan import catalog as cat
from perfect_catch.simulators.servicetitan.records.amounts import (
    invoice_item_parts,
    invoice_total_cents,
    money,
)
from perfect_catch.simulators.servicetitan.records.crm import first_location
from perfect_catch.simulators.servicetitan.records.jobs import job_number, job_type_index
from perfect_catch.simulators.servicetitan.records.people import address, customer_name
from perfect_catch.simulators.servicetitan.records.shared import Record
from perfect_catch.simulators.servicetitan.timefmt import TICKS_PER_DAY, format_date, format_ticks
from perfect_catch.simulators.servicetitan.universe import Universe


def _named(entity_id: int, name: str | None) -> Record:
    return {"id": entity_id, "name": name}


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


# Fields of the invoice-items export that an item embedded in its invoice does not carry
# (ServiceTitan's InvoiceItemResponse has neither).
EXPORT_ONLY_ITEM_FIELDS = ("active", "invoiceId")


def embedded_item(item: Record) -> Record:
    """An invoice item as its invoice lists it: the export record without its export-only fields."""
    return {key: value for key, value in item.items() if key not in EXPORT_ONLY_ITEM_FIELDS}


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
        "items": [embedded_item(item) for item in items],
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
