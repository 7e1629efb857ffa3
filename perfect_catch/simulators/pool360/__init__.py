"""Simulated Pool360 (POOLCORP's trade site): sign-in form, paged search, product pages.

Search result pages list 24 parts a page with the account price, unit and stock at the
account's home branch; a product page adds stock per branch. Layout drift (the
`supplier_layout` fault) renames the price's class and moves it into another element.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from perfect_catch.simulators.faults import FaultInjector
from perfect_catch.simulators.supplier_catalog import BRANCHES, Product
from perfect_catch.simulators.supplier_html import (
    admin_routes,
    esc,
    guarded,
    login_routes,
    money,
    page,
    robots_route,
)
from perfect_catch.simulators.supplier_site import SupplierSite, SupplierSystem

USERNAME = "perfectcatch-pools"
PASSWORD = "p360-sim-password"
COOKIE = "p360_session"
PAGE_SIZE = 24
HOME_BRANCH = BRANCHES["Pool360"][0]


def _price_html(site: SupplierSite, product: Product) -> str:
    value = money(site.price(product))
    if site.drifted:
        return f"<div class='pricing-block'><strong class='amt'>{value}</strong></div>"
    return f"<span class='product-price'>{value}</span>"


def _stock_text(qty: int) -> str:
    return f"In Stock ({qty})" if qty else "Out of Stock"


def build_pool360_app(site: SupplierSite, faults: FaultInjector) -> Starlette:
    site.faults = faults

    async def search(request: Request) -> Response:
        query = request.query_params.get("q", "")
        try:
            number = max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            number = 1
        found = site.search(query)
        pages = max(1, math.ceil(len(found) / PAGE_SIZE))
        root = request.scope.get("root_path", "")
        tiles = []
        for product in found[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]:
            qty = site.stock(product)[HOME_BRANCH]
            tiles.append(
                f"<div class='product-tile' data-sku='{esc(product.sku)}'>"
                f"<a class='product-link' href='{root}/product/{esc(product.sku)}'>"
                f"{esc(product.description)}</a>"
                f"<span class='mfr'>{esc(product.manufacturer)}</span>"
                f"<span class='mfr-part'>{esc(product.manufacturer_part)}</span>"
                f"{_price_html(site, product)}<span class='uom'>{esc(product.unit)}</span>"
                f"<span class='stock-status' data-branch='{esc(HOME_BRANCH)}'>"
                f"{_stock_text(qty)}</span></div>"
            )
        nav = (
            f"<a class='next-page' href='{root}/search?q={esc(query)}&amp;page={number + 1}'>"
            "Next</a>"
            if number < pages
            else ""
        )
        body = (
            f"<div class='search-results' data-total='{len(found)}' data-page='{number}' "
            f"data-pages='{pages}'>{''.join(tiles)}</div><nav class='pager'>{nav}</nav>"
        )
        return page(f"Search: {query}", body)

    async def product_page(request: Request) -> Response:
        product = site.catalog.by_sku.get(request.path_params["sku"])
        if product is None:
            return page("Not found", "<p class='not-found'>Product not found.</p>", status=404)
        stock = site.stock(product)
        rows = "".join(
            f"<tr class='branch-row' data-branch='{esc(b)}'><td class='branch-name'>{esc(b)}</td>"
            f"<td class='branch-qty'>{q}</td></tr>"
            for b, q in stock.items()
        )
        out = "" if any(stock.values()) else "<div class='out-of-stock'>Out of stock</div>"
        body = (
            f"<div class='product-detail' data-sku='{esc(product.sku)}'>"
            f"<h1 class='product-name'>{esc(product.description)}</h1>"
            f"<dl><dt>Manufacturer</dt><dd class='mfr'>{esc(product.manufacturer)}</dd>"
            f"<dt>Mfr Part #</dt><dd class='mfr-part'>{esc(product.manufacturer_part)}</dd></dl>"
            f"<div class='account-price'>{_price_html(site, product)} / "
            f"<span class='uom'>{esc(product.unit)}</span></div>{out}"
            f"<table class='branch-availability' data-home='{esc(HOME_BRANCH)}'>{rows}</table>"
            "</div>"
        )
        return page(product.description, body)

    def g(handler: Any) -> Any:
        return guarded(site, handler, login_required=True, cookie=COOKIE)

    return Starlette(
        routes=[
            robots_route(),
            *login_routes(site, COOKIE, "/search"),
            *admin_routes(site),
            Route("/search", g(search)),
            Route("/product/{sku}", g(product_page)),
        ]
    )


class Pool360System(SupplierSystem):
    """The Pool360 entry of the simulator host, mounted under `/pool360`."""

    name = "pool360"
    prefix = "/pool360"
    vendor = "Pool360"
    username = USERNAME
    password = PASSWORD
    env_prefix = "POOL360"
    build_app = staticmethod(build_pool360_app)
