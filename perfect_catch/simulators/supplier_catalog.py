"""The three suppliers' catalogs and how their prices move: one deterministic world.

Each supplier (Pool360, CED, Home Depot) carries some of the parts the simulated ServiceTitan
pricebook's materials name, the way a real shop records them: the supplier's own part number
in the material's vendor part, or a manufacturer part number the supplier lists, or only a
description close to the supplier's. Every catalog also carries parts the shop never buys, and
some materials are carried by no supplier at all. `CARRIAGE` is that truth, which tests and the
benchmark compare the platform's mapping and cost drift against.

Prices are a pure function of (seed, supplier, part, day): on about one day in seven a part's
price moves by -3 % to +6 %, so advancing the simulated world a week moves some prices. Stock at
a branch is drawn the same way per (part, branch, day).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from perfect_catch.simulators.servicetitan.records.pricebook import material
from perfect_catch.simulators.servicetitan.state import DEFAULT_TENANT_ID
from perfect_catch.simulators.servicetitan.universe import Universe

Supplier = Literal["Pool360", "CED", "Home Depot"]
SUPPLIERS: tuple[Supplier, ...] = ("Pool360", "CED", "Home Depot")
Method = Literal["vendor_part", "manufacturer_part", "fuzzy"]

#: Which supplier carries which pricebook material (by index), and how the shop can find it.
CARRIAGE: dict[int, tuple[tuple[Supplier, Method], ...]] = {
    0: (("Pool360", "vendor_part"),),
    1: (("CED", "vendor_part"),),
    2: (("Home Depot", "vendor_part"),),
    3: (("Pool360", "vendor_part"),),
    4: (("CED", "manufacturer_part"),),
    5: (("Home Depot", "fuzzy"),),
    6: (("Pool360", "vendor_part"),),
    7: (("CED", "vendor_part"), ("Home Depot", "manufacturer_part")),
    8: (("Home Depot", "manufacturer_part"),),
    9: (("Pool360", "vendor_part"), ("Home Depot", "manufacturer_part")),
    10: (),
    11: (("Home Depot", "fuzzy"),),
    12: (("Pool360", "vendor_part"),),
    13: (("CED", "manufacturer_part"),),
    14: (("Home Depot", "fuzzy"),),
    15: (("Pool360", "vendor_part"),),
    16: (),
}
#: How a supplier words a material it lists only by description (fuzzy matches).
FUZZY_TITLES: dict[int, str] = {
    5: "O-Ring Kit Assorted 225 pc",
    11: "PVC Conduit 1in x 10ft Sch 40",
    14: "Teflon Tape 1/2in x 520in",
}
#: Price of a carried material's first listing relative to the pricebook cost: most are close
#: (inside any sensible drift threshold), some have drifted up or down.
DRIFT: dict[int, float] = {0: 1.18, 3: 0.86, 7: 1.22, 8: 1.31, 11: 0.8, 13: 1.15}
STEADY = 1.01

NEVER_BOUGHT: dict[Supplier, tuple[str, ...]] = {
    "Pool360": (
        "Pool Brush 18in Nylon",
        "Leaf Rake Deep Bag",
        "Telescopic Pole 16ft",
        "Vacuum Hose 1.5in x 30ft",
        "Solar Blanket 16x32",
        "pH Increaser 5lb",
        "Alkalinity Up 12lb",
        "Calcium Hardness Plus 10lb",
        "Stabilizer Conditioner 4lb",
        "Algaecide 60 Quart",
        "Water Clarifier Quart",
        "Test Strips 50 Count",
    ),
    "CED": (
        "Load Center 100A Indoor",
        "EMT Conduit 3/4in 10ft",
        "THHN Copper Wire 12 AWG Black 500ft",
        "Weatherproof Box Cover",
        "Ground Rod 8ft Copper Bonded",
        "Disconnect Switch 60A Non-Fused",
        "Surge Protective Device Type 2",
        "Cable Staples Box of 100",
        "Junction Box 4in Square",
        "Toggle Switch Single Pole",
        "Photocell Sensor Twist-Lock",
        "Time Switch 24h Mechanical",
    ),
    "Home Depot": (
        "Extension Cord 50ft Outdoor",
        "Work Gloves Large",
        "Shop Vac 12 Gallon",
        "Caulk Gun Heavy Duty",
        "Zip Ties 8in 100 Pack",
        "Utility Knife Retractable",
        "Duct Tape Silver 60yd",
        "Safety Glasses Clear",
        "Bucket 5 Gallon Orange",
        "Flashlight LED Rechargeable",
        "Tarp 10x12 Blue",
        "Drop Cloth Canvas 9x12",
    ),
}
#: Variants that multiply the never-bought catalog at larger sizes.
VARIANTS = ("", " Contractor Pack", " Pro Grade", " Value Line", " Bulk")
SIZE_VARIANTS = {"small": 1, "medium": 5, "large": 5}
SIZE_REPEATS = {"small": 1, "medium": 1, "large": 10}

BRANCHES: dict[Supplier, tuple[str, ...]] = {
    "Pool360": ("Phoenix #112", "Mesa #117", "Scottsdale #121"),
    "CED": ("CED Phoenix", "CED Tempe"),
    "Home Depot": ("0461 Phoenix Camelback", "0472 Tempe Marketplace"),
}
MANUFACTURERS = ("Pentair", "Hayward", "Leslie's", "Square D", "Eaton", "Klein", "Husky", "Zodiac")


def _hash(*parts: object) -> int:
    text = "|".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def _compact(part: str) -> str:
    """A part number as a supplier that drops dashes lists it."""
    return "".join(ch for ch in part.upper() if ch.isalnum())


@dataclass
class Product:
    """One part a supplier sells; `material_index` is the pricebook material it is, if any."""

    supplier: Supplier
    sku: str
    manufacturer: str
    manufacturer_part: str
    description: str
    unit: str
    base_price: float
    material_index: int | None = None
    _prices: list[float] = field(default_factory=list, repr=False)


class SupplierCatalog:
    """One supplier's parts and their prices on each simulated day (0 = the anchor)."""

    def __init__(self, supplier: Supplier, seed: int, products: list[Product]) -> None:
        self.supplier = supplier
        self.seed = seed
        self.products = products
        self.by_sku = {p.sku: p for p in products}

    def price(self, product: Product, day: int) -> float:
        """The account price on `day`: the base price moved on the days the hash says."""
        prices = product._prices
        if not prices:
            prices.append(round(product.base_price, 2))
        while len(prices) <= day:
            d = len(prices)
            h = _hash(self.seed, self.supplier, product.sku, d)
            value = prices[-1]
            if h % 7 == 0:
                value = round(value * (1 + ((h >> 8) % 900 - 300) / 10_000), 2)
            prices.append(max(0.5, value))
        return prices[day]

    def stock(self, product: Product, branch: str, day: int) -> int:
        """Units on hand at `branch` on `day`; some parts are out of stock on some days."""
        h = _hash(self.seed, self.supplier, product.sku, branch, day)
        if h % 11 == 0 or (product.material_index is None and _hash(product.sku) % 9 == 0):
            return 0
        return 1 + (h >> 8) % 40

    def effective(self, anchor: date, day: int) -> date:
        return anchor + timedelta(days=day)


def _materials(seed: int, size: str, anchor: date) -> list[dict]:
    universe = Universe(seed, DEFAULT_TENANT_ID, size, anchor)
    return [material(universe, i) for i in range(universe.counts["materials"])]


def _item_number(supplier: Supplier, index: int) -> str:
    if supplier == "Pool360":
        return f"P360-{40_000 + index * 37}"
    if supplier == "CED":
        return f"CED-{700_000 + index * 53}"
    return str(300_000_000 + index * 7_919)


def build_catalogs(seed: int, size: str, anchor: date) -> dict[Supplier, SupplierCatalog]:
    """Every supplier's catalog for one simulated world."""
    products: dict[Supplier, list[Product]] = {s: [] for s in SUPPLIERS}
    for index, mat in enumerate(_materials(seed, size, anchor)):
        for supplier, method in CARRIAGE.get(index % len(CARRIAGE), ()):
            vendor_part = mat["primaryVendor"]["vendorPart"]
            serial = len(products[supplier])
            factor = DRIFT.get(index, STEADY) if supplier == _cheapest(index) else 1.35
            maker = MANUFACTURERS[index % len(MANUFACTURERS)]
            if method == "vendor_part":
                sku, mfr_part, title = vendor_part, f"{maker[:2].upper()}{9000 + index}", None
            elif method == "manufacturer_part":
                sku, mfr_part, title = _item_number(supplier, serial), _compact(vendor_part), None
            else:
                sku = _item_number(supplier, serial)
                mfr_part, title = f"{maker[:2].upper()}{8000 + index}", FUZZY_TITLES[index]
            products[supplier].append(
                Product(
                    supplier=supplier,
                    sku=sku,
                    manufacturer=maker,
                    manufacturer_part=mfr_part,
                    description=title or mat["description"],
                    unit="EA",
                    base_price=round(mat["cost"] * factor, 2),
                    material_index=index,
                )
            )
    for supplier in SUPPLIERS:
        names = NEVER_BOUGHT[supplier]
        variants = VARIANTS[: SIZE_VARIANTS[size]]
        for repeat in range(SIZE_REPEATS[size]):
            for v, variant in enumerate(variants):
                for n, name in enumerate(names):
                    serial = len(products[supplier])
                    suffix = f" #{repeat + 1}" if repeat else ""
                    h = _hash(seed, supplier, name, variant, repeat)
                    products[supplier].append(
                        Product(
                            supplier=supplier,
                            sku=_item_number(supplier, 1_000 + serial),
                            manufacturer=MANUFACTURERS[(n + v) % len(MANUFACTURERS)],
                            manufacturer_part=f"MX{h % 1_000_000:06d}",
                            description=f"{name}{variant}{suffix}",
                            unit="EA" if n % 3 else "CS",
                            base_price=round(3.0 + (h >> 20) % 30_000 / 100, 2),
                        )
                    )
    return {s: SupplierCatalog(s, seed, products[s]) for s in SUPPLIERS}


def _cheapest(index: int) -> Supplier | None:
    """The supplier whose listing carries a material's drift; the others list it dearer."""
    carriers = CARRIAGE.get(index, ())
    return carriers[0][0] if carriers else None
