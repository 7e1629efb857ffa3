"""`perfect-catch sync servicetitan` runs the sync engine with progress and a summary."""

from __future__ import annotations

import sqlalchemy as sa
from typer.testing import CliRunner

from perfect_catch.cli import app


def test_cli_syncs_selected_entities(simulator, engine: sa.Engine) -> None:
    result = CliRunner().invoke(app, ["sync", "servicetitan", "-e", "technicians", "-e", "jobs"])
    assert result.exit_code == 0, result.output
    assert "sync summary" in result.output
    with engine.connect() as conn:
        technicians = conn.execute(sa.text("select count(*) from servicetitan.st_technicians"))
        jobs = conn.execute(sa.text("select count(*) from servicetitan.st_jobs"))
        [tenant] = simulator.system("servicetitan").tenants.values()
        assert technicians.scalar() == tenant.count("technicians") > 0
        assert jobs.scalar() == tenant.count("jobs") > 0
        customers = conn.execute(sa.text("select count(*) from servicetitan.st_customers"))
        assert customers.scalar() == 0, "an entity that was not asked for was synced"


def test_cli_names_an_unknown_entity(simulator, engine: sa.Engine) -> None:
    result = CliRunner().invoke(app, ["sync", "servicetitan", "-e", "widgets"])
    assert result.exit_code == 2
    assert "widgets" in result.output and "customers" in result.output


def test_cli_reports_bad_credentials_without_the_secret(
    simulator, engine: sa.Engine, monkeypatch
) -> None:
    monkeypatch.setenv("ST_CLIENT_SECRET", "definitely-wrong-secret")
    result = CliRunner().invoke(app, ["sync", "servicetitan", "-e", "technicians"])
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "rejected the client credentials (invalid_client)" in said
    assert "check ST_CLIENT_ID and ST_CLIENT_SECRET" in said
    assert "definitely-wrong-secret" not in result.output
