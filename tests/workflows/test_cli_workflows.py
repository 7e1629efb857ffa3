"""`perfect-catch workflows list|enable|disable` switch definitions without a deploy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from perfect_catch.cli import app
from perfect_catch.settings import load_settings
from perfect_catch.workflows.definitions import WorkflowDefinitionError
from perfect_catch.workflows.passes import sync_from_files


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


def test_an_empty_or_missing_workflows_dir_is_refused_naming_it(
    engine: sa.Engine, tmp_path, monkeypatch
) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["workflows", "list"]).exit_code == 0  # the shipped ones recorded
    empty = tmp_path / "copied-from-elsewhere"
    empty.mkdir()
    missing = tmp_path / "not-mounted"
    # The contract, as an operator runs it: the command exits non-zero naming the folder.
    for folder in (empty, missing):
        result = subprocess.run(
            [str(Path(sys.executable).with_name("perfect-catch")), "workflows", "list"],
            env={**os.environ, "WORKFLOWS_DIR": str(folder)},
            capture_output=True,
            text=True,
        )
        assert result.returncode != 0
        assert str(folder) in result.stderr
    # The sensor's and run-once's pass refuses it too, and no workflow is marked removed.
    settings = load_settings(workflows_dir=empty)
    with pytest.raises(WorkflowDefinitionError, match=str(empty)):
        sync_from_files(engine, settings)
    with engine.connect() as conn:
        removed = conn.execute(
            sa.text(
                "select count(*) from automation.workflow_definitions where removed_at is not null"
            )
        ).scalar_one()
    assert removed == 0
