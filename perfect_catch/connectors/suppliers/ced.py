"""CED (Consolidated Electrical Distributors): the account's price file, catalog search and item
pages, parsed into `SupplierPrice` records.

A refresh downloads the account's price file (a CSV with the fields of an EDI 832 price
catalog) in one request: every part at the account's price, which is what the shop's pricing
needs and far gentler on the site than a page per part. Search and item pages are parsed too,
for looking up one part. A file without its part or price column, or a row whose price does not
parse, is layout drift and stops the run with nothing stored.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from urllib.parse import urlencode

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from perfect_catch.connectors.suppliers.polite import PoliteClient
from perfect_catch.connectors.suppliers.records import (
    FetchPlan,
    SchemaDriftError,
    SupplierPrice,
    parse_money,
    require,
)
from perfect_catch.connectors.suppliers.site import SiteSession

SUPPLIER = "CED"
PRICE_FILE = "/account/price-file.csv"
#: EDI 832 fields by the price file's column names.
COLUMNS = {
    "part": "Part Number",
    "manufacturer": "Manufacturer",
    "manufacturer_part": "Manufacturer Part Number",
    "description": "Description",
    "unit": "UOM",
    "price": "Price",
    "effective": "Effective Date",
}
REQUIRED = ("part", "price")


def _text(node: Node | None) -> str | None:
    return node.text(strip=True) if node is not None else None


def parse_price_file(text: str, url: str, fetched_at: datetime) -> list[SupplierPrice]:
    """Every row of the price file; availability is not in an 832, so it is 'unknown'."""
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    for key in REQUIRED:
        if COLUMNS[key] not in header:
            raise SchemaDriftError(SUPPLIER, "price_file", COLUMNS[key], url)
    records = []
    for row in reader:
        sku = require(row.get(COLUMNS["part"]), SUPPLIER, "price_file", COLUMNS["part"], url)
        price = require(
            parse_money(row.get(COLUMNS["price"])), SUPPLIER, "price_file", COLUMNS["price"], url
        )
        records.append(
            SupplierPrice(
                supplier=SUPPLIER,
                sku=sku,
                manufacturer_part=(row.get(COLUMNS["manufacturer_part"]) or None),
                description=(row.get(COLUMNS["description"]) or None),
                unit=(row.get(COLUMNS["unit"]) or None),
                price=price,
                availability="unknown",
                branch=None,
                url=None,
                fetched_at=fetched_at,
            )
        )
    return records


def parse_search_page(html: str, url: str, fetched_at: datetime) -> list[SupplierPrice]:
    """The result rows of one catalog search page."""
    tree = HTMLParser(html)
    table = tree.css_first(".catalog-results")
    if table is None:
        raise SchemaDriftError(SUPPLIER, "search", "catalog-results", url)
    records = []
    for row in table.css(".result-row"):
        sku = require(row.attributes.get("data-part"), SUPPLIER, "search", "part", url)
        price = require(
            parse_money(_text(row.css_first(".item-price"))), SUPPLIER, "search", "price", url
        )
        mfr = _text(row.css_first(".item-mfr")) or ""
        records.append(
            SupplierPrice(
                supplier=SUPPLIER,
                sku=sku,
                manufacturer_part=mfr.rsplit(" ", 1)[-1] or None,
                description=_text(row.css_first(".item-desc")),
                unit=_text(row.css_first(".item-uom")),
                price=price,
                availability="unknown",
                branch=None,
                url=None,
                fetched_at=fetched_at,
            )
        )
    return records


def parse_item_page(
    html: str, url: str, fetched_at: datetime, branch: str | None = None
) -> SupplierPrice:
    """One item page; stock is `branch`'s (default: the first branch listed)."""
    tree = HTMLParser(html)
    detail = tree.css_first(".item-detail")
    if detail is None:
        raise SchemaDriftError(SUPPLIER, "product", "item-detail", url)
    sku = require(detail.attributes.get("data-part"), SUPPLIER, "product", "part", url)
    price = require(
        parse_money(_text(detail.css_first(".item-pricing .item-price"))),
        SUPPLIER,
        "product",
        "price",
        url,
    )
    rows = detail.css(".branch-stock .branch")
    chosen = next((r for r in rows if r.attributes.get("data-branch") == branch), None)
    chosen = chosen or (rows[0] if rows else None)
    availability, where = "unknown", None
    if chosen is not None:
        qty = chosen.attributes.get("data-qty") or "0"
        availability = "in_stock" if qty.isdigit() and int(qty) > 0 else "out_of_stock"
        where = chosen.attributes.get("data-branch")
    return SupplierPrice(
        supplier=SUPPLIER,
        sku=sku,
        manufacturer_part=_text(detail.css_first(".item-mfr")),
        description=_text(detail.css_first(".item-title")),
        unit=_text(detail.css_first(".item-uom")),
        price=price,
        availability=availability,
        branch=where,
        url=url,
        fetched_at=fetched_at,
    )


class CedClient:
    """A refresh of the shop's CED prices over one signed-in, polite session."""

    def __init__(self, client: PoliteClient, username: str, password: str) -> None:
        self.client = client
        self.site = SiteSession(client, username, password)

    @property
    def logins(self) -> int:
        return self.site.logins

    def price_file(self) -> list[SupplierPrice]:
        response = self.site.get(PRICE_FILE)
        return parse_price_file(response.text, str(response.url), datetime.now(UTC))

    def search(self, query: str) -> list[SupplierPrice]:
        response = self.site.get("/catalog/search?" + urlencode({"q": query}))
        return parse_search_page(response.text, str(response.url), datetime.now(UTC))

    def item(self, sku: str) -> SupplierPrice:
        response = self.site.get(f"/catalog/item/{sku}")
        return parse_item_page(response.text, str(response.url), datetime.now(UTC))

    def fetch(self, plan: FetchPlan) -> list[SupplierPrice]:
        """The whole price file (one request): the plan is not needed to cover the parts."""
        self.client.check_backoff()
        return self.price_file()
