"""A parser per page kind of every supplier, on pages the simulators serve, checked against the
simulator's own truth; and on a drifted layout, the named error instead of a zero."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from starlette.testclient import TestClient

from perfect_catch.connectors.suppliers import ced, homedepot, pool360
from perfect_catch.connectors.suppliers.records import SchemaDriftError
from perfect_catch.simulators.ced import CedSystem
from perfect_catch.simulators.faults import FaultConfig, FaultInjector
from perfect_catch.simulators.homedepot import HomeDepotSystem
from perfect_catch.simulators.pool360 import HOME_BRANCH, Pool360System

NOW = datetime(2025, 6, 2, tzinfo=UTC)


def _signed_in(system, username: str, password: str) -> TestClient:
    client = TestClient(system.app, base_url="http://sim")
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code in (200, 302)
    return client


def _faults(**config) -> FaultInjector:
    return FaultInjector(FaultConfig(**config))


@pytest.fixture(params=["normal", "drifted"])
def layout(request) -> str:
    return request.param


def test_pool360_search_and_product_pages(layout: str) -> None:
    system = Pool360System(seed=3, anchor="2025-06-02")
    system.attach_faults(_faults(supplier_layout=layout))
    site = system.state
    client = _signed_in(system, site.username, site.password)
    search = client.get("/search", params={"q": "", "page": 1})
    product = site.catalog.products[0]
    page = client.get(f"/product/{product.sku}")
    if layout == "drifted":
        with pytest.raises(SchemaDriftError) as caught:
            pool360.parse_search_page(search.text, "http://sim/search", NOW)
        assert (caught.value.page_kind, caught.value.missing_field) == ("search", "price")
        with pytest.raises(SchemaDriftError, match="product page.*'price'"):
            pool360.parse_product_page(page.text, "http://sim/product", NOW)
        return
    records, number, pages = pool360.parse_search_page(search.text, "http://sim/search", NOW)
    assert (number, pages) == (1, 1)
    assert {r.sku for r in records} == {p.sku for p in site.catalog.products}
    first = next(r for r in records if r.sku == product.sku)
    assert first.price == Decimal(str(site.price(product)))
    assert first.branch == HOME_BRANCH
    assert first.availability == (
        "in_stock" if site.stock(product)[HOME_BRANCH] else "out_of_stock"
    )
    detail = pool360.parse_product_page(page.text, str(page.url), NOW)
    assert detail.sku == product.sku
    assert detail.manufacturer_part == product.manufacturer_part
    assert (detail.price, detail.availability, detail.branch) == (
        first.price,
        first.availability,
        first.branch,
    )


def test_pool360_paging_and_out_of_stock() -> None:
    system = Pool360System(seed=3, size="medium", anchor="2025-06-02")
    site = system.state
    client = _signed_in(system, site.username, site.password)
    records, number, pages = pool360.parse_search_page(
        client.get("/search", params={"q": "", "page": 2}).text, "http://sim/search", NOW
    )
    assert number == 2 and pages > 2 and len(records) == 24
    out = [p for p in site.catalog.products if not any(site.stock(p).values())]
    assert out, "the simulated catalog has parts out of stock everywhere"
    detail = pool360.parse_product_page(client.get(f"/product/{out[0].sku}").text, "u", NOW)
    assert detail.availability == "out_of_stock"


def test_ced_price_file_search_and_item_pages(layout: str) -> None:
    system = CedSystem(seed=3, anchor="2025-06-02")
    system.attach_faults(_faults(supplier_layout=layout))
    site = system.state
    client = _signed_in(system, site.username, site.password)
    price_file = client.get("/account/price-file.csv")
    product = site.catalog.products[1]
    search = client.get("/catalog/search", params={"q": product.sku})
    item = client.get(f"/catalog/item/{product.sku}")
    if layout == "drifted":
        with pytest.raises(SchemaDriftError) as caught:
            ced.parse_price_file(price_file.text, "price-file.csv", NOW)
        assert (caught.value.page_kind, caught.value.missing_field) == ("price_file", "Price")
        with pytest.raises(SchemaDriftError, match="search page"):
            ced.parse_search_page(search.text, "search", NOW)
        with pytest.raises(SchemaDriftError, match="product page"):
            ced.parse_item_page(item.text, "item", NOW)
        return
    records = ced.parse_price_file(price_file.text, "price-file.csv", NOW)
    assert len(records) == len(site.catalog.products)
    row = next(r for r in records if r.sku == product.sku)
    assert row.price == Decimal(str(site.price(product)))
    assert row.manufacturer_part == product.manufacturer_part
    found = ced.parse_search_page(search.text, "search", NOW)
    assert [r.sku for r in found] == [product.sku] and found[0].price == row.price
    detail = ced.parse_item_page(item.text, "item", NOW)
    assert (detail.sku, detail.price) == (product.sku, row.price)
    assert detail.availability in ("in_stock", "out_of_stock")


def test_homedepot_search_and_product(layout: str) -> None:
    system = HomeDepotSystem(seed=3, anchor="2025-06-02")
    system.attach_faults(_faults(supplier_layout=layout))
    site = system.state
    client = TestClient(system.app, base_url="http://sim")
    headers = {"X-Api-Key": site.password}
    product = next(p for p in site.catalog.products if p.material_index is not None)
    search = client.get(
        "/v1/products/search",
        params={"modelNumbers": product.manufacturer_part.lower()},
        headers=headers,
    )
    single = client.get(f"/v1/products/{product.sku}", headers=headers)
    if layout == "drifted":
        with pytest.raises(SchemaDriftError) as caught:
            homedepot.parse_search(search.json(), "search", NOW)
        assert caught.value.missing_field == "pricing.value"
        with pytest.raises(SchemaDriftError, match="product page"):
            homedepot.parse_product(single.json(), "product", NOW)
        return
    [record] = homedepot.parse_search(search.json(), "search", NOW)
    assert record.sku == product.sku
    assert record.price == Decimal(str(site.price(product)))
    assert homedepot.parse_product(single.json(), "product", NOW) == record
    keyword = client.get(
        "/v1/products/search", params={"keyword": product.description}, headers=headers
    )
    assert product.sku in {r.sku for r in homedepot.parse_search(keyword.json(), "s", NOW)}
    assert client.get("/v1/products/search", params={"keyword": "x"}).status_code == 401


def test_a_page_without_a_sku_is_drift_not_a_skipped_row() -> None:
    html = (
        "<div class='search-results' data-total='1'><div class='product-tile'>"
        "<span class='product-price'>$1.00</span></div></div>"
    )
    with pytest.raises(SchemaDriftError) as caught:
        pool360.parse_search_page(html, "u", NOW)
    assert caught.value.missing_field == "sku"
    assert caught.value.incident_kind == "schema_drift"
