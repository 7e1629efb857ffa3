"""The supplier simulators: what `simulate` prints for them, catalogs tied to the ServiceTitan
pricebook, deterministic price moves, and the host-level advance moving the whole world."""

from __future__ import annotations

from datetime import date

import httpx

from perfect_catch.simulators.app import build_app, system_env
from perfect_catch.simulators.supplier_catalog import CARRIAGE, build_catalogs

KEYS = (
    "POOL360_URL",
    "POOL360_USERNAME",
    "POOL360_PASSWORD",
    "CED_URL",
    "CED_USERNAME",
    "CED_PASSWORD",
    "HOMEDEPOT_API_URL",
    "HOMEDEPOT_API_KEY",
)


def test_simulate_prints_the_supplier_variables() -> None:
    """`simulate` prints `system_env` of the host's systems, one KEY=value line each."""
    env = system_env(build_app(anchor="2025-06-02").state.systems, "http://127.0.0.1:8765")
    for key in KEYS:
        assert env.get(key), key
    assert env["POOL360_URL"] == "http://127.0.0.1:8765/pool360"
    assert env["HOMEDEPOT_API_URL"] == "http://127.0.0.1:8765/homedepot"


def test_catalogs_carry_the_pricebook_parts(simulator) -> None:
    st = simulator.system("servicetitan")
    materials = sorted(st.records("materials"), key=lambda r: r["id"])
    for supplier in ("pool360", "ced", "homedepot"):
        site = simulator.system(supplier)
        assert any(p.material_index is None for p in site.catalog.products), "never-bought parts"
        for product in site.catalog.products:
            if product.material_index is None:
                continue
            carriers = dict(CARRIAGE[product.material_index])
            assert carriers[site.supplier]
            if carriers[site.supplier] == "vendor_part":
                assert (
                    product.sku == materials[product.material_index]["primaryVendor"]["vendorPart"]
                )
    assert [i for i, carriers in CARRIAGE.items() if not carriers], "some carried by nobody"


def test_prices_move_deterministically_by_day() -> None:
    a = build_catalogs(5, "small", date(2025, 6, 2))["CED"]
    b = build_catalogs(5, "small", date(2025, 6, 2))["CED"]
    assert [a.price(p, 30) for p in a.products] == [b.price(p, 30) for p in b.products]
    moved = [p for p in a.products if a.price(p, 7) != a.price(p, 0)]
    assert moved and len(moved) < len(a.products)


def test_host_advance_moves_servicetitan_and_suppliers(simulator) -> None:
    st = simulator.system("servicetitan")
    before = st.days_simulated
    response = httpx.post(f"{simulator.base_url}/_admin/advance", json={"days": 3})
    assert response.status_code == 200, response.text
    assert st.days_simulated == before + 3
    assert {simulator.system(s).day for s in ("pool360", "ced", "homedepot")} == {3}
    own = httpx.post(f"{simulator.base_url}/servicetitan/_admin/advance", json={"days": 1})
    assert own.status_code == 200
    assert st.days_simulated == before + 4
    assert simulator.system("ced").day == 3, "ServiceTitan's own advance moves only ServiceTitan"
    bad = httpx.post(f"{simulator.base_url}/_admin/advance", json={"days": "x"})
    assert bad.status_code == 400
