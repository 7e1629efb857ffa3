"""Home Depot's product API: search by model numbers (batched) or keyword, parsed into
`SupplierPrice` records with the chosen store's stock.

Part numbers the pricebook records go in batches of up to 24 a call; a keyword search is made
only for a material none of whose part numbers came back, so a refresh stays a handful of
calls. A response without `items`, or an item without an id or a price that parses, is layout
drift and stops the run with nothing stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from perfect_catch.connectors.suppliers.polite import PoliteClient
from perfect_catch.connectors.suppliers.records import (
    FetchPlan,
    SchemaDriftError,
    SupplierError,
    SupplierPrice,
    parse_money,
    require,
)

SUPPLIER = "Home Depot"
SEARCH = "/v1/products/search"
BATCH = 24
STATUS = {"IN_STOCK": "in_stock", "LIMITED_STOCK": "in_stock", "OUT_OF_STOCK": "out_of_stock"}


def compact(part: str) -> str:
    return "".join(ch for ch in part.upper() if ch.isalnum())


def parse_item(item: Any, url: str, fetched_at: datetime, page_kind: str) -> SupplierPrice:
    if not isinstance(item, dict):
        raise SchemaDriftError(SUPPLIER, page_kind, "item", url)
    sku = require(str(item.get("itemId") or ""), SUPPLIER, page_kind, "itemId", url)
    pricing = item.get("pricing")
    value = pricing.get("value") if isinstance(pricing, dict) else None
    price = require(
        parse_money(str(value)) if value is not None else None,
        SUPPLIER,
        page_kind,
        "pricing.value",
        url,
    )
    stock = item.get("availability") if isinstance(item.get("availability"), dict) else {}
    return SupplierPrice(
        supplier=SUPPLIER,
        sku=sku,
        manufacturer_part=item.get("modelNumber") or None,
        description=item.get("title") or None,
        unit=item.get("unitOfMeasure") or None,
        price=price,
        availability=STATUS.get(str(stock.get("status", "")), "unknown"),
        branch=stock.get("storeName") or None,
        url=item.get("url") or None,
        fetched_at=fetched_at,
    )


def parse_search(body: Any, url: str, fetched_at: datetime) -> list[SupplierPrice]:
    """The items of one search response."""
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise SchemaDriftError(SUPPLIER, "search", "items", url)
    return [parse_item(item, url, fetched_at, "search") for item in items]


def parse_product(body: Any, url: str, fetched_at: datetime) -> SupplierPrice:
    """One product response."""
    return parse_item(body, url, fetched_at, "product")


class HomeDepotClient:
    """A refresh of Home Depot prices at the shop's store, over the product API."""

    def __init__(self, client: PoliteClient, api_key: str, store_id: str = "") -> None:
        if not api_key:
            raise SupplierError(SUPPLIER, "the API key must be set")
        self.client = client
        self.store_id = store_id
        self._headers = {"X-Api-Key": api_key}
        self.logins = 0

    def _get(self, path: str, params: dict[str, str]) -> Any:
        response = self.client.request(
            "GET", path, params={**params, "storeId": self.store_id}, headers=self._headers
        )
        if response.status_code >= 400:
            raise SupplierError(SUPPLIER, f"GET {path} failed (HTTP {response.status_code})")
        try:
            return response.json()
        except ValueError:
            raise SchemaDriftError(SUPPLIER, "search", "json body", path) from None

    def by_model_numbers(self, parts: list[str]) -> list[SupplierPrice]:
        fetched_at = datetime.now(UTC)
        found: list[SupplierPrice] = []
        for start in range(0, len(parts), BATCH):
            chunk = parts[start : start + BATCH]
            body = self._get(SEARCH, {"modelNumbers": ",".join(chunk)})
            found += parse_search(body, SEARCH, fetched_at)
        return found

    def by_keyword(self, keyword: str) -> list[SupplierPrice]:
        body = self._get(SEARCH, {"keyword": keyword})
        return parse_search(body, SEARCH, datetime.now(UTC))

    def product(self, item_id: str) -> SupplierPrice:
        path = f"/v1/products/{item_id}"
        return parse_product(self._get(path, {}), path, datetime.now(UTC))

    def fetch(self, plan: FetchPlan) -> list[SupplierPrice]:
        """Model-number batches for every part number, then keywords for what was not found."""
        self.client.check_backoff()
        parts = sorted({compact(p) for p in plan.part_numbers if compact(p)})
        found = {r.sku: r for r in self.by_model_numbers(parts)} if parts else {}
        seen = {compact(r.sku) for r in found.values()} | {
            compact(r.manufacturer_part or "") for r in found.values()
        }
        for keyword, wanted in plan.keywords_unless_found:
            if any(compact(p) in seen for p in wanted):
                continue
            for record in self.by_keyword(keyword):
                found.setdefault(record.sku, record)
        for keyword in plan.keywords:
            for record in self.by_keyword(keyword):
                found.setdefault(record.sku, record)
        return list(found.values())
