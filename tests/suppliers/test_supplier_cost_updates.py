"""Pricebook costs from supplier prices: propose writes a batch and sends nothing, apply patches
ServiceTitan's cost and the vendor's cost (twice = once), rollback restores them."""

from __future__ import annotations

import re
from decimal import Decimal

import sqlalchemy as sa
from typer.testing import CliRunner

from perfect_catch.cli import app
from perfect_catch.integrations.supplier_mapping import supplier_of


def _materials(world) -> dict[int, dict]:
    st = world.simulator.system("servicetitan")
    return {r["id"]: r for r in st.records("materials")}


def _vendor_costs(record: dict, vendor: str) -> list[float]:
    entries = [record["primaryVendor"], *(record.get("otherVendors") or [])]
    return [e["cost"] for e in entries if supplier_of(e["vendorName"]) == vendor]


def test_propose_apply_twice_and_rollback(world, monkeypatch) -> None:
    monkeypatch.setenv("SUPPLIER_REQUESTS_PER_SECOND", "25")
    runner = CliRunner()
    before = _materials(world)
    with world.engine.connect() as conn:
        drift = conn.execute(
            sa.text(
                "select material_id, best_vendor, best_price, difference_pct "
                "from marts.material_cost_drift where is_carried"
            )
        ).all()
    expected = {r.material_id: r for r in drift if abs(r.difference_pct) >= 5}
    assert expected, "the simulated suppliers have drifted from some pricebook costs"

    proposed = runner.invoke(app, ["suppliers", "propose", "--threshold", "5"])
    assert proposed.exit_code == 0, proposed.output
    batch = re.search(r"batch (cb-[0-9]+-[0-9a-f]+) proposed", proposed.output).group(1)
    assert _materials(world) == before, "propose sends nothing"
    with world.engine.connect() as conn:
        rows = conn.execute(
            sa.text("select material_id, new_cost from pricebook.cost_updates where batch_id = :b"),
            {"b": batch},
        ).all()
    assert {r.material_id for r in rows} == set(expected)

    applied = runner.invoke(app, ["suppliers", "apply", batch])
    assert applied.exit_code == 0, applied.output
    assert f"{len(expected)} material(s) applied" in applied.output
    after = _materials(world)
    for material_id, row in expected.items():
        record = after[material_id]
        assert Decimal(str(record["cost"])) == row.best_price
        for cost in _vendor_costs(record, row.best_vendor):
            assert Decimal(str(cost)) == row.best_price
    untouched = set(before) - set(expected)
    assert all(after[m] == before[m] for m in untouched)
    with world.engine.connect() as conn:
        stored = dict(
            conn.execute(
                sa.text("select id, cost from pricebook.materials where id = any(:ids)"),
                {"ids": list(expected)},
            ).all()
        )
    assert {m: Decimal(str(c)) for m, c in stored.items()} == {
        m: r.best_price for m, r in expected.items()
    }, "the warehouse has the new costs at once"

    again = runner.invoke(app, ["suppliers", "apply", batch])
    assert again.exit_code == 0, again.output
    assert "0 material(s) applied" in again.output
    assert _materials(world) == after, "applying twice changes nothing more"

    rolled = runner.invoke(app, ["suppliers", "rollback", batch])
    assert rolled.exit_code == 0, rolled.output
    restored = _materials(world)
    for material_id in expected:
        assert restored[material_id]["cost"] == before[material_id]["cost"]
        assert (
            restored[material_id]["primaryVendor"]["cost"]
            == (before[material_id]["primaryVendor"]["cost"])
        )

    refused = runner.invoke(app, ["suppliers", "apply", batch])
    assert refused.exit_code == 2
    assert "rolled back" in refused.output
    unknown = runner.invoke(app, ["suppliers", "apply", "cb-nope"])
    assert unknown.exit_code == 2 and "no cost update batch" in unknown.output
