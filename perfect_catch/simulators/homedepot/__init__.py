"""Simulated Home Depot product API: JSON search by keyword or model numbers, keyed by an API key.

`GET /v1/products/search?keyword=...` or `?modelNumbers=A,B,C` (up to 24 a call, matched with
dashes and spaces ignored, against model number or item id), `storeId` picks the store whose
stock is reported, `page` pages 24 items at a time. The key goes in `X-Api-Key`. Too many
requests a second answer 429 with `Retry-After`. Layout drift (`supplier_layout` fault) renames
`pricing.value` to `price.amount`.
"""

from __future__ import annotations

import math

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from perfect_catch.simulators.faults import FaultInjector
from perfect_catch.simulators.supplier_catalog import BRANCHES, Product
from perfect_catch.simulators.supplier_site import SupplierSite, SupplierSystem

API_KEY = "hd-sim-api-key-7f3a"
PAGE_SIZE = 24
MAX_MODELS = 24
STORES = {store.split(" ")[0]: store for store in BRANCHES["Home Depot"]}


def _json(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def _compact(value: str) -> str:
    return "".join(ch for ch in value.upper() if ch.isalnum())


def _item(site: SupplierSite, product: Product, store_id: str, root: str) -> dict:
    store = STORES.get(store_id, next(iter(STORES.values())))
    qty = site.stock(product)[store]
    price = site.price(product)
    item: dict = {
        "itemId": product.sku,
        "modelNumber": product.manufacturer_part,
        "brand": product.manufacturer,
        "title": product.description,
        "unitOfMeasure": "each" if product.unit == "EA" else "case",
        "availability": {
            "storeId": store.split(" ")[0],
            "storeName": store,
            "status": "IN_STOCK" if qty else "OUT_OF_STOCK",
            "quantity": qty,
        },
        "url": f"{root}/p/{product.sku}",
    }
    if site.drifted:
        item["price"] = {"amount": price, "currency": "USD"}
    else:
        item["pricing"] = {"value": price, "currency": "USD"}
    return item


def build_homedepot_app(site: SupplierSite, faults: FaultInjector) -> Starlette:
    site.faults = faults

    async def guard(request: Request) -> Response | None:
        if site.record(request.method, request.url.path):
            return _json({"error": "Too Many Requests"}, 429, {"Retry-After": "2"})
        fault = await faults.strike()
        if fault == "429":
            return _json({"error": "Too Many Requests"}, 429, {"Retry-After": "1"})
        if fault in ("5xx", "timeout"):
            return _json({"error": "Service Unavailable"}, 503 if fault == "5xx" else 504)
        if request.headers.get("X-Api-Key") != site.password:
            return _json({"error": "Unauthorized", "message": "Invalid or missing API key"}, 401)
        return None

    async def search(request: Request) -> Response:
        refused = await guard(request)
        if refused is not None:
            return refused
        params = request.query_params
        store_id = params.get("storeId", "")
        models = [m for m in params.get("modelNumbers", "").split(",") if m.strip()]
        keyword = params.get("keyword", "").strip()
        if not models and not keyword:
            return _json({"error": "Bad Request", "message": "keyword or modelNumbers needed"}, 400)
        if len(models) > MAX_MODELS:
            return _json(
                {"error": "Bad Request", "message": f"at most {MAX_MODELS} modelNumbers"}, 400
            )
        if models:
            wanted = {_compact(m) for m in models}
            found = [
                p
                for p in site.catalog.products
                if _compact(p.manufacturer_part) in wanted or _compact(p.sku) in wanted
            ]
        else:
            found = site.search(keyword)
        try:
            number = max(1, int(params.get("page", "1")))
        except ValueError:
            number = 1
        pages = max(1, math.ceil(len(found) / PAGE_SIZE))
        root = str(request.base_url).rstrip("/") + request.scope.get("root_path", "")
        chunk = found[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
        return _json(
            {
                "items": [_item(site, p, store_id, root) for p in chunk],
                "page": number,
                "totalPages": pages,
                "totalResults": len(found),
            }
        )

    async def product(request: Request) -> Response:
        refused = await guard(request)
        if refused is not None:
            return refused
        found = site.catalog.by_sku.get(request.path_params["item_id"])
        if found is None:
            return _json({"error": "Not Found"}, 404)
        root = str(request.base_url).rstrip("/") + request.scope.get("root_path", "")
        return _json(_item(site, found, request.query_params.get("storeId", ""), root))

    return Starlette(
        routes=[
            Route("/v1/products/search", search),
            Route("/v1/products/{item_id}", product),
        ]
    )


class HomeDepotSystem(SupplierSystem):
    """The Home Depot entry of the simulator host, mounted under `/homedepot`."""

    name = "homedepot"
    prefix = "/homedepot"
    vendor = "Home Depot"
    password = API_KEY
    build_app = staticmethod(build_homedepot_app)

    def env(self, base_url: str) -> dict[str, str]:
        return {
            "HOMEDEPOT_API_URL": f"{base_url}{self.prefix}",
            "HOMEDEPOT_API_KEY": self.state.password,
        }
