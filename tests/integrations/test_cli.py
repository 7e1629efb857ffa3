"""The CLI fronts of the GoHighLevel and CallRail runs."""

from __future__ import annotations

import sqlalchemy as sa
from typer.testing import CliRunner

from perfect_catch.cli import app


def test_cli_syncs_gohighlevel_and_callrail(simulator, engine: sa.Engine) -> None:
    runner = CliRunner()
    ghl = runner.invoke(app, ["sync", "gohighlevel"])
    assert ghl.exit_code == 0, ghl.output
    assert "gohighlevel contacts" in ghl.output
    calls = runner.invoke(app, ["sync", "callrail"])
    assert calls.exit_code == 0, calls.output
    with engine.connect() as conn:
        contacts = conn.execute(sa.text("select count(*) from integrations.ghl_contacts")).scalar()
        call_rows = conn.execute(sa.text("select count(*) from integrations.callrail_calls"))
        assert contacts > 0 and call_rows.scalar() > 0


def test_cli_names_missing_ghl_settings(engine: sa.Engine) -> None:
    result = CliRunner().invoke(app, ["sync", "gohighlevel"])
    assert result.exit_code == 2
    assert "GHL_TOKEN" in result.output
