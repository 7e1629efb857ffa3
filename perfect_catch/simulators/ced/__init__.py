"""Simulated CED (Consolidated Electrical Distributors): sign-in, catalog search and item pages,
and the account's downloadable price file.

The price file is a CSV with the fields of an EDI 832 price catalog (part, manufacturer,
manufacturer part, description, unit, price, effective date): a shop fetches its whole
account pricing in one request instead of a page per part. Layout drift (`supplier_layout`
fault) renames the price column of the file and the price class of the HTML pages.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from perfect_catch.simulators.faults import FaultInjector
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

USERNAME = "perfectcatch-electric"
PASSWORD = "ced-sim-password"
COOKIE = "ced_session"
PRICE_FILE_COLUMNS = (
    "Part Number",
    "Manufacturer",
    "Manufacturer Part Number",
    "Description",
    "UOM",
    "Price",
    "Effective Date",
)


def build_ced_app(site: SupplierSite, faults: FaultInjector) -> Starlette:
    site.faults = faults

    def price_html(value: float) -> str:
        if site.drifted:
            return f"<p class='pricing'><em class='your-cost'>{money(value)}</em></p>"
        return f"<span class='item-price'>{money(value)}</span>"

    async def search(request: Request) -> Response:
        query = request.query_params.get("q", "")
        root = request.scope.get("root_path", "")
        rows = "".join(
            f"<tr class='result-row' data-part='{esc(p.sku)}'>"
            f"<td><a class='item-link' href='{root}/catalog/item/{esc(p.sku)}'>"
            f"{esc(p.sku)}</a></td>"
            f"<td class='item-desc'>{esc(p.description)}</td>"
            f"<td class='item-mfr'>{esc(p.manufacturer)} {esc(p.manufacturer_part)}</td>"
            f"<td>{price_html(site.price(p))}</td><td class='item-uom'>{esc(p.unit)}</td></tr>"
            for p in site.search(query)[:50]
        )
        return page(
            f"Catalog search: {query}",
            f"<table class='catalog-results' data-query='{esc(query)}'>{rows}</table>",
        )

    async def item(request: Request) -> Response:
        product = site.catalog.by_sku.get(request.path_params["sku"])
        if product is None:
            return page("Not found", "<p class='not-found'>Item not found.</p>", status=404)
        stock = site.stock(product)
        branches = "".join(
            f"<li class='branch' data-branch='{esc(b)}' data-qty='{q}'>{esc(b)}: {q}</li>"
            for b, q in stock.items()
        )
        body = (
            f"<section class='item-detail' data-part='{esc(product.sku)}'>"
            f"<h1 class='item-title'>{esc(product.description)}</h1>"
            f"<div class='item-mfr' data-mfr='{esc(product.manufacturer)}'>"
            f"{esc(product.manufacturer_part)}</div>"
            f"<div class='item-pricing'>{price_html(site.price(product))}"
            f"<span class='item-uom'>{esc(product.unit)}</span></div>"
            f"<ul class='branch-stock'>{branches}</ul></section>"
        )
        return page(product.description, body)

    async def price_file(request: Request) -> Response:
        out = io.StringIO()
        columns = list(PRICE_FILE_COLUMNS)
        if site.drifted:
            columns[columns.index("Price")] = "Net Each"
        writer = csv.writer(out)
        writer.writerow(columns)
        effective = site.today.isoformat()
        for p in site.catalog.products:
            writer.writerow(
                [
                    p.sku,
                    p.manufacturer,
                    p.manufacturer_part,
                    p.description,
                    p.unit,
                    f"{site.price(p):.2f}",
                    effective,
                ]
            )
        return Response(
            out.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": "attachment; filename=price-file.csv"},
        )

    def g(handler: Any) -> Any:
        return guarded(site, handler, login_required=True, cookie=COOKIE)

    return Starlette(
        routes=[
            robots_route(),
            *login_routes(site, COOKIE, "/catalog/search"),
            *admin_routes(site),
            Route("/catalog/search", g(search)),
            Route("/catalog/item/{sku}", g(item)),
            Route("/account/price-file.csv", g(price_file)),
        ]
    )


class CedSystem(SupplierSystem):
    """The CED entry of the simulator host, mounted under `/ced`."""

    name = "ced"
    prefix = "/ced"
    vendor = "CED"
    username = USERNAME
    password = PASSWORD
    env_prefix = "CED"
    build_app = staticmethod(build_ced_app)
