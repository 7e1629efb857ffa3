"""PATCH of pricebook services, materials and equipment (`*UpdateRequest` in the spec).

Only fields of the update request are changed, and only those the simulated records carry;
the rest of the request (assets, configurable variations) is accepted and left as is, as the
records do not model it. Vendors (`primaryVendor`, `otherVendors`, `SkuVendorRequest` shape)
of materials and equipment are applied: an entry keeps its id and vendor name when its vendor
is already on the record. A change gets a new modifiedOn, so the next export shows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from perfect_catch.simulators.servicetitan import catalog as cat
from perfect_catch.simulators.servicetitan.records.shared import Record
from perfect_catch.simulators.servicetitan.refusals import invalid

if TYPE_CHECKING:
    from perfect_catch.simulators.servicetitan.writer import TenantWriter

# URL resource -> simulated entity.
RESOURCES = {"services": "services", "materials": "materials", "equipment": "pricebook-equipment"}

_COMMON = {
    "code": str,
    "displayName": str,
    "description": str,
    "price": float,
    "memberPrice": float,
    "addOnPrice": float,
    "addOnMemberPrice": float,
    "active": bool,
    "taxable": bool,
    "account": str,
    "hours": float,
    "paysCommission": bool,
    "bonus": float,
    "commissionBonus": float,
    "budgetCostCode": str,
    "budgetCostType": str,
}
_GOODS = {
    "cost": float,
    "unitOfMeasure": str,
    "isInventory": bool,
    "costOfSaleAccount": str,
    "assetAccount": str,
}
FIELDS: dict[str, dict[str, type]] = {
    "services": {**_COMMON, "isLabor": bool, "crossSaleGroup": str},
    "materials": {
        **_COMMON,
        **_GOODS,
        "deductAsJobCost": bool,
        "isConfigurableMaterial": bool,
        "chargeableByDefault": bool,
    },
    "pricebook-equipment": {
        **_COMMON,
        **_GOODS,
        "manufacturer": str,
        "model": str,
        "crossSaleGroup": str,
        "isConfigurableEquipment": bool,
    },
}
# Fields whose request shape is the record's shape.
_OBJECTS = {
    "services": ("warranty",),
    "materials": (),
    "pricebook-equipment": ("manufacturerWarranty", "serviceProviderWarranty"),
}
_ID_LISTS = {
    "services": ("recommendations", "upgrades"),
    "materials": (),
    "pricebook-equipment": ("upgrades",),
}


def _checked(entity: str, field: str, value: Any) -> Any:
    kind = FIELDS[entity][field]
    if kind is float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise invalid(field, f"{field} must be a number.")
        if value < 0:
            raise invalid(field, f"{field} must not be negative.")
        return float(value)
    if kind is bool and not isinstance(value, bool):
        raise invalid(field, f"{field} must be true or false.")
    if kind is str and not isinstance(value, str):
        raise invalid(field, f"{field} must be a string.")
    return value


def _categories(m: TenantWriter, entity: str, value: Any) -> list[Any]:
    """Category ids from the request, in the shape the entity's records use."""
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise invalid("categories", "categories must be a list of category ids.")
    found = []
    for category_id in value:
        category = m.store.get("categories", category_id)
        if category is None:
            raise invalid("categories", f"Category {category_id} does not exist.")
        found.append(category)
    if entity == "services":
        return [{"id": c["id"], "name": c["name"], "active": c["active"]} for c in found]
    return [c["id"] for c in found]


_VENDOR_FIELDS = {
    "vendorId",
    "memo",
    "vendorPart",
    "cost",
    "active",
    "primarySubAccount",
    "otherSubAccounts",
}
_VENDOR_IDS = 7_500_000


def _vendor(field: str, value: Any, known: list[Record]) -> Record:
    """A `SkuVendorRequest` as the record's `SkuVendorResponse`."""
    if not isinstance(value, dict):
        raise invalid(field, f"{field} must be an object.")
    unknown = sorted(set(value) - _VENDOR_FIELDS)
    if unknown:
        raise invalid(field, f"{field} has unknown fields: {', '.join(unknown)}.")
    vendor_id = value.get("vendorId")
    if not isinstance(vendor_id, int) or isinstance(vendor_id, bool):
        raise invalid(field, f"{field}.vendorId must be a vendor id.")
    cost = value.get("cost")
    if not isinstance(cost, int | float) or isinstance(cost, bool) or cost < 0:
        raise invalid(field, f"{field}.cost must be a number, not negative.")
    if not isinstance(value.get("active"), bool):
        raise invalid(field, f"{field}.active must be true or false.")
    same = next((v for v in known if v.get("vendorId") == vendor_id), None)
    name = (
        same["vendorName"]
        if same
        else next((n for n, i in cat.VENDORS if i == vendor_id), f"Vendor {vendor_id}")
    )
    return {
        "id": same["id"] if same else _VENDOR_IDS + vendor_id,
        "vendorName": name,
        "vendorId": vendor_id,
        "memo": value.get("memo"),
        "vendorPart": value.get("vendorPart"),
        "cost": float(cost),
        "active": value["active"],
        "primarySubAccount": value.get("primarySubAccount"),
        "otherSubAccounts": value.get("otherSubAccounts") or [],
    }


def update_sku(m: TenantWriter, resource: str, sku_id: int, body: dict[str, Any]) -> Record:
    """PATCH pricebook/v2/tenant/{t}/{services|materials|equipment}/{id}."""
    entity = RESOURCES[resource]
    record = m.require(entity, sku_id)
    changes: dict[str, Any] = {}
    for field, value in body.items():
        if value is None:
            continue
        if field in FIELDS[entity] and field in record:
            changes[field] = _checked(entity, field, value)
        elif field == "categories":
            changes[field] = _categories(m, entity, value)
        elif field in ("primaryVendor", "otherVendors") and field in record:
            known = [record.get("primaryVendor") or {}, *(record.get("otherVendors") or [])]
            known = [v for v in known if v]
            if field == "primaryVendor":
                changes[field] = _vendor(field, value, known)
            elif not isinstance(value, list):
                raise invalid(field, "otherVendors must be a list of vendors.")
            else:
                changes[field] = [_vendor(field, v, known) for v in value]
        elif field in _OBJECTS[entity]:
            if not isinstance(value, dict):
                raise invalid(field, f"{field} must be an object.")
            changes[field] = value
        elif field in _ID_LISTS[entity]:
            if not isinstance(value, list) or not all(isinstance(v, int) for v in value):
                raise invalid(field, f"{field} must be a list of SKU ids.")
            changes[field] = value
    code = changes.get("code")
    if code is not None:
        if not code.strip():
            raise invalid("code", "code must not be empty.")
        clash = next(
            (r["id"] for r in m.store.iter_by_id(entity) if r.get("code") == code),
            sku_id,
        )
        if clash != sku_id:
            raise invalid("code", f"Code {code} is already used by {clash}.")
    return m.touch(entity, sku_id, changes)
