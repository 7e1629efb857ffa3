"""`perfect-catch run-once` runs every stage against the simulators and reports each."""

from __future__ import annotations

import sqlalchemy as sa
from typer.testing import CliRunner

from perfect_catch.cli import app


def test_run_once_runs_every_stage(simulator, engine: sa.Engine) -> None:
    result = CliRunner().invoke(app, ["run-once"])
    assert result.exit_code == 0, result.output
    for stage in ("servicetitan", "gohighlevel", "callrail", "dbt", "workflows", "outbox"):
        assert stage in result.output
    with engine.connect() as conn:
        customers = conn.execute(sa.text("select count(*) from servicetitan.st_customers"))
        events = conn.execute(sa.text("select count(*) from events.workflow_events"))
        ghl = conn.execute(sa.text("select count(*) from integrations.ghl_contacts"))
        assert customers.scalar() > 0
        assert events.scalar() > 0
        assert ghl.scalar() > 0


def test_run_once_reports_a_failed_stage_and_exits_non_zero(
    simulator, engine: sa.Engine, monkeypatch
) -> None:
    monkeypatch.setenv("ST_APP_KEY", "wrong-app-key")
    result = CliRunner().invoke(app, ["run-once"])
    assert result.exit_code == 1
    assert "FAILED" in result.output
    assert "wrong-app-key" not in result.output
