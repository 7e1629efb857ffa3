"""Claude's diagnosis (against the Anthropic simulator) is validated and stored beside the
rules' one, may use read-only tools only and never sees a secret; the MCP tools explain
incidents; `health` says 2 when the database cannot be reached."""

from __future__ import annotations

import json

import sqlalchemy as sa
from typer.testing import CliRunner

from perfect_catch.cli import app
from perfect_catch.monitoring.recording import Monitor
from perfect_catch.settings import load_settings
from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.registry import get_tool

SECRET = "cs9.do-not-show-claude-5e1"


def _auth_error_text() -> str:
    return (
        "ServiceTitanError: ServiceTitan POST /connect/token failed (HTTP 400): ServiceTitan "
        f"rejected the client credentials (invalid_client); sent client_secret={SECRET}"
    )


def test_claude_diagnosis_is_stored_beside_the_rules_and_uses_read_only_tools(
    simulator, engine: sa.Engine, database_url: str
) -> None:
    anthropic = simulator.system("anthropic")
    anthropic.add_script(
        "submit_diagnosis",
        [
            [
                {"type": "tool_use", "name": "query_database", "input": {"sql": "select 1"}},
                {"type": "tool_use", "name": "send_sms", "input": {"to": "+16025550100"}},
            ],
            [
                {
                    "type": "tool_use",
                    "name": "submit_diagnosis",
                    "input": {
                        "diagnosis": "The ServiceTitan secret was rotated.",
                        "suggested_fix": "Paste the new secret into ST_CLIENT_SECRET.",
                        "confidence": 0.8,
                    },
                }
            ],
        ],
    )
    settings = load_settings(database_url=database_url, st_client_secret=SECRET)
    recorded = Monitor(engine, settings).failure(
        source="servicetitan", error=_auth_error_text(), run_id="r1", tenant_id=1, entity="jobs"
    )
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.text("select * from monitoring.incidents where id = :id"),
                {"id": recorded.incident_id},
            )
            .mappings()
            .one()
        )
    assert row["kind"] == "auth_failed" and row["diagnosed_by"] == "rules"
    assert "refused" in row["diagnosis"]
    assert row["claude_diagnosis"] == "The ServiceTitan secret was rotated."
    assert row["claude_confidence"] == 0.8
    assert SECRET not in json.dumps(dict(row), default=str)

    requests = json.dumps(anthropic.requests)
    assert SECRET not in requests
    offered = {tool["name"] for tool in anthropic.requests[0]["tools"]}
    assert "query_database" in offered and "send_sms" not in offered
    results = anthropic.requests[1]["messages"][-1]["content"]
    by_tool = {r["is_error"] for r in results}
    assert by_tool == {False, True}  # the query ran, the write tool was refused


def test_an_invalid_claude_answer_is_ignored(simulator, engine: sa.Engine, database_url) -> None:
    simulator.system("anthropic").add_script(
        "submit_diagnosis",
        [[{"type": "tool_use", "name": "submit_diagnosis", "input": {"confidence": 7}}]],
    )
    settings = load_settings(database_url=database_url)
    recorded = Monitor(engine, settings).failure(
        source="servicetitan", error="HTTP 503 Service Unavailable", run_id="r1", tenant_id=1
    )
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "select kind, diagnosis, claude_diagnosis from monitoring.incidents where id = :id"
            ),
            {"id": recorded.incident_id},
        ).one()
    assert row.kind == "source_down" and row.diagnosis and row.claude_diagnosis is None


def test_mcp_tools_list_and_explain_incidents(engine: sa.Engine, database_url: str) -> None:
    settings = load_settings(database_url=database_url)
    monitor = Monitor(engine, settings)
    opened = monitor.failure(
        source="servicetitan", error="HTTP 429 Too Many Requests", run_id="r1", tenant_id=1
    )
    monitor.success(source="servicetitan", run_id="r2", tenant_id=1, entity="jobs")
    context = ToolContext.from_settings(settings, engine)
    listed = get_tool("list_incidents").run(context, {"status": "resolved"})
    assert listed["count"] == 1 and listed["incidents"][0]["kind"] == "rate_limited"
    explained = get_tool("explain_incident").run(context, {"incident_id": opened.incident_id})
    assert explained["incident"]["resolved_by"] == "run r2"
    assert "fingerprint" not in explained["incident"]
    assert get_tool("list_incidents").read_only and get_tool("explain_incident").read_only


def test_health_exits_2_when_the_database_cannot_be_reached(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://pc:pw-not-shown@127.0.0.1:1/nowhere")
    result = CliRunner().invoke(app, ["health", "--json"])
    assert result.exit_code == 2, result.output
    assert json.loads(result.output)["reachable"] is False
    assert "pw-not-shown" not in result.output
