"""The contract other checks rely on: after `db upgrade` and `run-once` against the small
simulated world, the marketing marts have rows, the GoHighLevel / CallRail staging views exist,
the MCP server lists the marketing tools, and `generate_estimate` keeps its shape."""

from __future__ import annotations

import anyio
import mcp
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from mcp_server.server import build_server
from perfect_catch.cli import app
from perfect_catch.settings import load_settings
from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.estimate_generation import GenerateEstimateInput, generate_estimate


def _tool_names() -> set[str]:
    async def go() -> set[str]:
        async with mcp.Client(build_server()) as client:
            return {tool.name for tool in (await client.list_tools()).tools}

    return anyio.run(go)


@pytest.mark.timeout(900)  # a run-once with its dbt build outlasts 300 s on a loaded machine
def test_run_once_builds_marketing_marts_and_keeps_estimate_shape(
    simulator, engine: sa.Engine
) -> None:
    runner = CliRunner()
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    result = runner.invoke(app, ["run-once"])
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        for mart in ("marts.marketing_attribution", "marts.lead_response"):
            assert conn.execute(sa.text(f"select count(*) from {mart}")).scalar() > 0, mart
        staging = conn.execute(
            sa.text(
                "select table_name from information_schema.tables where table_schema = 'staging'"
                " and (table_name like 'stg\\_gohighlevel\\_\\_%'"
                " or table_name like 'stg\\_callrail\\_\\_%')"
            )
        ).scalars()
        assert len(set(staging)) >= 2
    assert {"marketing_attribution", "lead_response_time"} <= _tool_names()

    context = ToolContext.from_settings(load_settings(anthropic_api_key=""), engine)
    answer = generate_estimate(
        context, GenerateEstimateInput(description="replace the pool pump and add a salt cell")
    )
    assert answer["lines"], answer
    for line in answer["lines"]:
        assert line["matched"] is True
        assert isinstance(line["item"]["name"], str) and line["item"]["name"]
