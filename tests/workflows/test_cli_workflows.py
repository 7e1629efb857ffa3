"""`perfect-catch workflows list|enable|disable` switch definitions without a deploy."""

from __future__ import annotations

import sqlalchemy as sa
from typer.testing import CliRunner

from perfect_catch.cli import app


def test_disable_then_enable_a_workflow(engine: sa.Engine) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["workflows", "list"])
    assert listed.exit_code == 0, listed.output
    assert "estimate_followup" in listed.output

    off = runner.invoke(app, ["workflows", "disable", "estimate_followup"])
    assert off.exit_code == 0, off.output
    with engine.connect() as conn:
        enabled = conn.execute(
            sa.text("select enabled from automation.workflow_definitions where name = :n"),
            {"n": "estimate_followup"},
        ).scalar_one()
    assert enabled is False
    assert "off  estimate_followup" in runner.invoke(app, ["workflows", "list"]).output

    on = runner.invoke(app, ["workflows", "enable", "estimate_followup"])
    assert on.exit_code == 0
    assert "on   estimate_followup" in runner.invoke(app, ["workflows", "list"]).output


def test_unknown_workflow_is_named(engine: sa.Engine) -> None:
    result = CliRunner().invoke(app, ["workflows", "disable", "no_such_flow"])
    assert result.exit_code == 2
    assert "no_such_flow" in result.output
