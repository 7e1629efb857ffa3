"""Storing supplier prices: history only on change, layout drift stores nothing, the material
map by vendor part, manufacturer part and fuzzy match against the simulator's truth, overrides
win, and a material no supplier carries is reported, not dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from perfect_catch.connectors.suppliers.records import SchemaDriftError, SupplierPrice
from perfect_catch.connectors.suppliers.sessions import SessionStore
from perfect_catch.integrations.supplier_mapping import match_materials, rebuild_map
from perfect_catch.integrations.supplier_refresh import refresh_all
from perfect_catch.integrations.supplier_store import store_prices
from perfect_catch.simulators.supplier_catalog import CARRIAGE
from tests.suppliers.conftest import supplier_settings, sync_materials

NOW = datetime(2025, 6, 2, 12, tzinfo=UTC)


def _offer(
    sku: str = "P-1", price: str = "10.00", availability: str = "in_stock", hours: int = 0
) -> SupplierPrice:
    at = NOW + timedelta(hours=hours)
    return SupplierPrice(
        "Pool360", sku, "M-1", "Part", "EA", Decimal(price), availability, "B", None, at
    )


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"select count(*) from pricebook.{table}")).scalar_one()


def test_history_adds_rows_only_on_change(engine: sa.Engine) -> None:
    assert store_prices(engine, "Pool360", [_offer(), _offer("P-2")]).history_rows == 2
    later = [_offer(hours=1), _offer("P-2", hours=1)]
    assert store_prices(engine, "Pool360", later).history_rows == 0
    assert store_prices(engine, "Pool360", [_offer(price="10.50", hours=2)]).history_rows == 1
    assert store_prices(engine, "Pool360", [_offer(price="10.50", hours=3)]).history_rows == 0
    assert (
        store_prices(
            engine, "Pool360", [_offer(price="10.50", availability="out_of_stock", hours=4)]
        ).history_rows
        == 1
    )
    assert _count(engine, "vendor_prices") == 4
    assert _count(engine, "vendor_products") == 2
    with engine.connect() as conn:
        price = conn.execute(
            sa.text("select price from pricebook.vendor_products where sku = 'P-1'")
        ).scalar_one()
    assert price == Decimal("10.50")


def test_layout_drift_fails_the_supplier_and_stores_nothing(simulator, engine) -> None:
    settings = supplier_settings()
    sync_materials(engine, settings)
    simulator.set_faults(supplier_layout="drifted")
    report = refresh_all(engine, settings, sessions=SessionStore())
    assert [r.supplier for r in report.failures] == ["Pool360", "CED", "Home Depot"]
    kinds = {r.supplier: (r.error.page_kind, r.error.missing_field) for r in report.failures}
    assert kinds == {
        "Pool360": ("search", "price"),
        "CED": ("price_file", "Price"),
        "Home Depot": ("search", "pricing.value"),
    }
    for run in report.failures:
        assert isinstance(run.error, SchemaDriftError)
        assert run.error.incident_kind == "schema_drift"
        assert run.records == 0
    assert _count(engine, "vendor_products") == 0
    assert _count(engine, "vendor_prices") == 0
    assert "layout drift on the search page" in report.line()


def _truth(world) -> set[tuple[int, str, str]]:
    st = world.simulator.system("servicetitan")
    ids = sorted(r["id"] for r in st.records("materials"))
    return {(ids[i], s, m) for i, carriers in CARRIAGE.items() for s, m in carriers}


def test_mapping_by_vendor_part_manufacturer_part_and_fuzzy(world) -> None:
    with world.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select material_id, vendor, match_method, score from pricebook.material_vendor_map"
            )
        ).all()
    found = {(r.material_id, r.vendor, r.match_method) for r in rows}
    assert found == _truth(world)
    assert {r.match_method for r in rows} == {"vendor_part", "manufacturer_part", "fuzzy"}
    assert all(r.score is not None for r in rows if r.match_method == "fuzzy")
    assert all(r.score is None for r in rows if r.match_method != "fuzzy")


def test_a_material_no_supplier_carries_is_reported(world) -> None:
    st = world.simulator.system("servicetitan")
    ids = sorted(r["id"] for r in st.records("materials"))
    nobody = {ids[i] for i, carriers in CARRIAGE.items() if not carriers}
    assert nobody
    assert {u["material_id"] for u in world.report.mapping.unmapped} == nobody
    with world.engine.connect() as conn:
        drift = conn.execute(
            sa.text("select material_id, is_carried, best_price from marts.material_cost_drift")
        ).all()
    assert len(drift) == len(ids)
    assert {r.material_id for r in drift if not r.is_carried} == nobody
    assert all(r.best_price is None for r in drift if not r.is_carried)


def test_the_override_file_wins(world, tmp_path) -> None:
    st = world.simulator.system("servicetitan")
    ids = sorted(r["id"] for r in st.records("materials"))
    ced = world.simulator.system("ced").catalog.products
    spare = next(p.sku for p in ced if p.material_index is None)
    overrides = tmp_path / "overrides.csv"
    overrides.write_text(f"material_id,vendor,sku\n{ids[10]},CED,{spare}\n{ids[0]},Pool360,\n")
    result = rebuild_map(world.engine, min_score=90, overrides_path=overrides)
    with world.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select material_id, vendor, sku, match_method from pricebook.material_vendor_map"
            )
        ).all()
    assert (ids[10], "CED", spare, "override") in {tuple(r) for r in rows}
    assert not [r for r in rows if r.material_id == ids[0]]
    assert ids[10] not in {u["material_id"] for u in result.unmapped}


def test_fuzzy_matching_needs_the_minimum_score() -> None:
    material = {"tenant_id": 1, "id": 5, "description": "Teflon Tape", "raw": {}}
    products = [
        {
            "vendor": "Home Depot",
            "sku": "1",
            "manufacturer_part": "X",
            "description": "Teflon Tape 1/2in",
        },
        {"vendor": "CED", "sku": "2", "manufacturer_part": "Y", "description": "Duct Tape Silver"},
    ]
    [match] = match_materials([material], products, min_score=90).matches
    assert (match.vendor, match.sku, match.method) == ("Home Depot", "1", "fuzzy")
    assert not match_materials(
        [{**material, "description": "Plumber Tape"}], products, min_score=90
    ).matches
