"""The pricebook: materials, equipment, services and their categories."""

from __future__ import annotations

from perfect_catch.simulators.servicetitan import catalog as cat
from perfect_catch.simulators.servicetitan.records.shared import Record, stamps
from perfect_catch.simulators.servicetitan.universe import Universe


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
    created, modified = stamps(u, "materials", i)
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
    created, modified = stamps(u, "pricebook-equipment", i)
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
    created, modified = stamps(u, "services", i)
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
    created, modified = stamps(u, "categories", i)
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
