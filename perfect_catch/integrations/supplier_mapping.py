"""Which supplier part each ServiceTitan pricebook material is: the material ↔ SKU map.

A material is matched at each supplier, strongest evidence first:

1. `override`: a line of the manual override file (material_id,vendor,sku) wins over all; an
   empty sku says the material is not carried there, whatever the matchers think.
2. `vendor_part`: the material's `primaryVendor`/`otherVendors` names the supplier and its
   vendor part is the supplier's SKU (dashes, spaces and case ignored).
3. `manufacturer_part`: a vendor part the material records (at any vendor) is a manufacturer
   part number the supplier lists.
4. `fuzzy`: only for a material no part number matched anywhere, the supplier part whose
   description is closest (rapidfuzz token set ratio) at or above the minimum score, with its
   score. A material matched by part number is not also fuzzily matched elsewhere, since a
   close description is weak evidence beside a part number.

A material none of whose evidence finds a part stays unmapped: it is reported, not dropped.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rapidfuzz import fuzz, process, utils

from perfect_catch.connectors.suppliers import SUPPLIERS
from perfect_catch.integrations.db import connection, fetch_all

#: How ServiceTitan vendor names are recognised as each supplier (lower case, substrings).
VENDOR_NAMES: dict[str, tuple[str, ...]] = {
    "Pool360": ("pool360", "poolcorp", "scp distributors", "superior pool"),
    "CED": ("ced", "consolidated electrical"),
    "Home Depot": ("home depot", "homedepot"),
}


def supplier_of(vendor_name: str | None) -> str | None:
    """The supplier a ServiceTitan vendor name stands for, if it is one of ours."""
    name = (vendor_name or "").strip().lower()
    words = name.replace("-", " ").split()
    for supplier, aliases in VENDOR_NAMES.items():
        # A short alias ("ced") must be a word of the name; a long one may sit anywhere in it.
        if any(a in words if len(a) <= 3 else a in name for a in aliases):
            return supplier
    return None


def compact(part: str | None) -> str:
    return "".join(ch for ch in (part or "").upper() if ch.isalnum())


@dataclass(frozen=True)
class Match:
    tenant_id: int
    material_id: int
    vendor: str
    sku: str
    method: str
    score: float | None
    matched_on: str | None


@dataclass
class MapResult:
    matches: list[Match] = field(default_factory=list)
    unmapped: list[dict[str, Any]] = field(default_factory=list)
    materials: int = 0

    def by_method(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for m in self.matches:
            counts[m.method] = counts.get(m.method, 0) + 1
        return counts

    def line(self) -> str:
        methods = ", ".join(f"{n} {k}" for k, n in sorted(self.by_method().items()))
        return (
            f"{self.materials - len(self.unmapped)}/{self.materials} material(s) mapped"
            f" ({methods or 'none'}); {len(self.unmapped)} carried by no supplier found"
        )


def vendor_parts(raw: dict[str, Any]) -> list[tuple[str | None, str]]:
    """(supplier or None, vendor part) of each vendor entry of a material's raw record."""
    entries = [raw.get("primaryVendor"), *(raw.get("otherVendors") or [])]
    return [
        (supplier_of(e.get("vendorName")), str(e["vendorPart"]))
        for e in entries
        if isinstance(e, dict) and e.get("vendorPart")
    ]


def read_overrides(path: Path | None) -> dict[tuple[int, str], str]:
    """(material id, supplier) -> SKU ('' = not carried) from the override CSV."""
    if path is None:
        return {}
    if not path.exists():
        raise FileNotFoundError(f"the mapping override file {path} does not exist")
    found: dict[tuple[int, str], str] = {}
    with path.open(newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            try:
                material_id = int(str(row.get("material_id", "")).strip())
            except ValueError:
                raise ValueError(f"{path} line {number}: material_id must be a number") from None
            vendor = str(row.get("vendor") or "").strip()
            if vendor not in SUPPLIERS:
                raise ValueError(
                    f"{path} line {number}: vendor must be one of {', '.join(SUPPLIERS)}"
                )
            found[(material_id, vendor)] = str(row.get("sku") or "").strip()
    return found


def match_materials(
    materials: Iterable[dict[str, Any]],
    products: Iterable[dict[str, Any]],
    *,
    min_score: float,
    overrides: dict[tuple[int, str], str] | None = None,
) -> MapResult:
    """The map, from material rows (tenant_id, id, description, raw) and product rows."""
    overrides = overrides or {}
    by_vendor: dict[str, list[dict[str, Any]]] = {s: [] for s in SUPPLIERS}
    by_sku: dict[tuple[str, str], dict[str, Any]] = {}
    by_mfr: dict[tuple[str, str], dict[str, Any]] = {}
    for p in products:
        by_vendor.setdefault(p["vendor"], []).append(p)
        by_sku[(p["vendor"], compact(p["sku"]))] = p
        if p.get("manufacturer_part"):
            by_mfr.setdefault((p["vendor"], compact(p["manufacturer_part"])), p)
    result = MapResult()
    fuzzy_choices = [
        (p["vendor"], p["sku"], utils.default_process(p.get("description") or ""))
        for vendor in by_vendor.values()
        for p in vendor
    ]
    for material in materials:
        result.materials += 1
        tenant, mid = material["tenant_id"], material["id"]
        parts = vendor_parts(material.get("raw") or {})
        found: dict[str, Match] = {}
        for supplier in SUPPLIERS:
            for named, part in parts:
                product = by_sku.get((supplier, compact(part))) if named == supplier else None
                if product is not None:
                    found[supplier] = Match(
                        tenant, mid, supplier, product["sku"], "vendor_part", None, part
                    )
                    break
            if supplier in found:
                continue
            for _named, part in parts:
                product = by_mfr.get((supplier, compact(part)))
                if product is not None:
                    found[supplier] = Match(
                        tenant, mid, supplier, product["sku"], "manufacturer_part", None, part
                    )
                    break
        if not found and fuzzy_choices:
            text = utils.default_process(material.get("description") or "")
            scored = process.extract(
                text,
                [c[2] for c in fuzzy_choices],
                scorer=fuzz.token_set_ratio,
                processor=None,
                score_cutoff=min_score,
                limit=None,
            )
            for _choice, score, index in sorted(scored, key=lambda s: -s[1]):
                vendor, sku, _ = fuzzy_choices[index]
                if vendor not in found:
                    found[vendor] = Match(
                        tenant,
                        mid,
                        vendor,
                        sku,
                        "fuzzy",
                        round(float(score), 2),
                        material.get("description"),
                    )
        for (override_id, vendor), sku in overrides.items():
            if override_id != mid:
                continue
            if sku:
                found[vendor] = Match(tenant, mid, vendor, sku, "override", None, "override file")
            else:
                found.pop(vendor, None)
        result.matches.extend(found[s] for s in SUPPLIERS if s in found)
        if not found:
            result.unmapped.append(
                {
                    "tenant_id": tenant,
                    "material_id": mid,
                    "description": material.get("description"),
                }
            )
    return result


def rebuild_map(
    engine: sa.Engine, *, min_score: float, overrides_path: Path | None = None
) -> MapResult:
    """Match every active material against the stored offers and replace the map with it."""
    overrides = read_overrides(overrides_path)
    with connection(engine) as conn, conn.transaction():
        materials = fetch_all(
            conn,
            "select tenant_id, id, coalesce(description, display_name) as description, raw "
            "from pricebook.materials where deleted_at is null and coalesce(active, true)",
            (),
        )
        products = fetch_all(
            conn,
            "select vendor, sku, manufacturer_part, description from pricebook.vendor_products",
            (),
        )
        result = match_materials(materials, products, min_score=min_score, overrides=overrides)
        conn.execute("delete from pricebook.material_vendor_map")
        with conn.cursor() as cur:
            cur.executemany(
                "insert into pricebook.material_vendor_map (tenant_id, material_id, vendor, sku, "
                "match_method, score, matched_on) values (%s, %s, %s, %s, %s, %s, %s)",
                [
                    (m.tenant_id, m.material_id, m.vendor, m.sku, m.method, m.score, m.matched_on)
                    for m in result.matches
                ],
            )
    return result
