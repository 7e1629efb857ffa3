"""The supplier MCP tools on a refreshed world: prices, cost drift, and cost updates that only
reach ServiceTitan with confirm=true."""

from __future__ import annotations

import pytest

from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.errors import ToolInputError
from perfect_catch.tools.registry import call_tool, get_tool


def test_supplier_tools(world) -> None:
    context = ToolContext.from_settings(world.settings, world.engine)
    prices = call_tool(context, "supplier_prices", {"query": "POO-10009", "history": True})
    [part] = prices["parts"]
    assert part["vendor"] == "Pool360" and part["history"]
    assert part["materials"][0]["match_method"] == "vendor_part"

    drift = call_tool(context, "cost_drift", {"min_abs_pct": 5})
    assert drift["count"] > 0
    assert all(abs(m["difference_pct"]) >= 5 for m in drift["materials"])
    assert len(drift["carried_by_no_supplier"]) == 2

    st = world.simulator.system("servicetitan")
    before = {r["id"]: r["cost"] for r in st.records("materials")}
    proposal = call_tool(context, "propose_cost_updates", {"threshold_pct": 5})
    assert proposal["count"] == drift["count"]
    batch = proposal["batch_id"]

    shown = call_tool(context, "apply_cost_updates", {"batch_id": batch})
    assert shown["confirmed"] is False and len(shown["changes"]) == proposal["count"]
    assert {r["id"]: r["cost"] for r in st.records("materials")} == before

    applied = call_tool(context, "apply_cost_updates", {"batch_id": batch, "confirm": True})
    assert len(applied["changed_material_ids"]) == proposal["count"]
    again = call_tool(context, "apply_cost_updates", {"batch_id": batch, "confirm": True})
    assert again["changed"] is False
    call_tool(context, "apply_cost_updates", {"batch_id": batch, "confirm": True, "rollback": True})
    assert {r["id"]: r["cost"] for r in st.records("materials")} == before

    with pytest.raises(ToolInputError, match="no cost update batch"):
        call_tool(context, "apply_cost_updates", {"batch_id": "cb-unknown", "confirm": True})
    spec = get_tool("apply_cost_updates")
    assert spec.destructive and not spec.read_only
    assert get_tool("cost_drift").read_only
