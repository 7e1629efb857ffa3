"""Pool360 (POOLCORP's trade site): paged search listings and product pages, parsed into
`SupplierPrice` records.

A refresh browses the catalog's listing pages (the account price, unit and home-branch stock
are on them) and opens the product page of each part the shop already buys there, which adds
the manufacturer details and per-branch stock. Every page is validated: a listing that says it
has results but yields no product tile, or a tile or product page without a SKU or a price that
parses, is layout drift and stops the run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

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

SUPPLIER = "Pool360"
#: Listing pages read per refresh at most, so a huge catalog cannot make a run unbounded.
MAX_SEARCH_PAGES = 200


def _text(node: Node | None) -> str | None:
    return node.text(strip=True) if node is not None else None


def _availability(text: str | None) -> str:
    if text is None:
        return "unknown"
    lowered = text.lower()
    if "out of stock" in lowered:
        return "out_of_stock"
    return "in_stock" if "in stock" in lowered else "unknown"


def parse_search_page(
    html: str, url: str, fetched_at: datetime
) -> tuple[list[SupplierPrice], int, int]:
    """(records, page number, page count) of one listing page."""
    tree = HTMLParser(html)
    results = tree.css_first(".search-results")
    if results is None:
        raise SchemaDriftError(SUPPLIER, "search", "search-results", url)
    total = int(results.attributes.get("data-total") or 0)
    page = int(results.attributes.get("data-page") or 1)
    pages = int(results.attributes.get("data-pages") or 1)
    tiles = results.css(".product-tile")
    if total and not tiles:
        raise SchemaDriftError(SUPPLIER, "search", "product-tile", url)
    base = url.split("/search", 1)[0]
    records = []
    for tile in tiles:
        sku = require(tile.attributes.get("data-sku"), SUPPLIER, "search", "sku", url)
        price = require(
            parse_money(_text(tile.css_first(".product-price"))), SUPPLIER, "search", "price", url
        )
        link = tile.css_first(".product-link")
        stock = tile.css_first(".stock-status")
        href = link.attributes.get("href") if link is not None else None
        records.append(
            SupplierPrice(
                supplier=SUPPLIER,
                sku=sku,
                manufacturer_part=_text(tile.css_first(".mfr-part")),
                description=_text(link),
                unit=_text(tile.css_first(".uom")),
                price=price,
                availability=_availability(_text(stock)),
                branch=stock.attributes.get("data-branch") if stock is not None else None,
                url=_absolute(base, href),
                fetched_at=fetched_at,
            )
        )
    return records, page, pages


def parse_product_page(html: str, url: str, fetched_at: datetime) -> SupplierPrice:
    """The record of one product page; stock is the account's home branch's."""
    tree = HTMLParser(html)
    detail = tree.css_first(".product-detail")
    if detail is None:
        raise SchemaDriftError(SUPPLIER, "product", "product-detail", url)
    sku = require(detail.attributes.get("data-sku"), SUPPLIER, "product", "sku", url)
    price = require(
        parse_money(_text(detail.css_first(".account-price .product-price"))),
        SUPPLIER,
        "product",
        "price",
        url,
    )
    table = detail.css_first(".branch-availability")
    home = table.attributes.get("data-home") if table is not None else None
    availability = "unknown"
    if table is not None:
        for row in table.css(".branch-row"):
            if row.attributes.get("data-branch") == home:
                qty = _text(row.css_first(".branch-qty")) or "0"
                availability = "in_stock" if qty.isdigit() and int(qty) > 0 else "out_of_stock"
    return SupplierPrice(
        supplier=SUPPLIER,
        sku=sku,
        manufacturer_part=_text(detail.css_first(".mfr-part")),
        description=_text(detail.css_first(".product-name")),
        unit=_text(detail.css_first(".account-price .uom")),
        price=price,
        availability=availability,
        branch=home,
        url=url,
        fetched_at=fetched_at,
    )


def _absolute(base: str, href: str | None) -> str | None:
    if not href:
        return None
    if href.startswith("http"):
        return href
    # Links are site-absolute paths; the base URL may carry a path prefix of its own.
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}{href}"


class Pool360Client:
    """A refresh of the shop's Pool360 prices over one signed-in, polite session."""

    def __init__(self, client: PoliteClient, username: str, password: str) -> None:
        self.client = client
        self.site = SiteSession(client, username, password)

    @property
    def logins(self) -> int:
        return self.site.logins

    def search(self, query: str = "", page: int = 1) -> tuple[list[SupplierPrice], int, int]:
        path = "/search?" + urlencode({"q": query, "page": page})
        response = self.site.get(path)
        return parse_search_page(response.text, str(response.url), datetime.now(UTC))

    def product(self, sku: str) -> SupplierPrice:
        response = self.site.get(f"/product/{sku}")
        return parse_product_page(response.text, str(response.url), datetime.now(UTC))

    def fetch(self, plan: FetchPlan) -> list[SupplierPrice]:
        """The catalog's listing, then the product pages of the SKUs the shop buys here."""
        self.client.check_backoff()
        found: dict[str, SupplierPrice] = {}
        page, pages = 1, 1
        while page <= min(pages, MAX_SEARCH_PAGES):
            records, page, pages = self.search("", page)
            found.update((r.sku, r) for r in records)
            page += 1
        for sku in plan.skus:
            if sku in found:
                found[sku] = self.product(sku)
        return list(found.values())
