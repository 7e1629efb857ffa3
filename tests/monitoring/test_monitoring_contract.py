"""The contract of monitoring, end to end on the simulators: a wrong ServiceTitan secret makes
`health` fail with exactly one open incident that names the refused credentials and never the
secret; the right secret resolves it and `health` passes again."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from perfect_catch.cli import app

WRONG_SECRET = "cs9.wrong-secret-7f3a9c1e"


def tables_containing(engine: sa.Engine, needle: str) -> list[str]:
    """Every table (any schema but the catalogs) with a row whose text holds `needle`."""
    with engine.connect() as conn:
        tables = conn.execute(
            sa.text(
                "select table_schema, table_name from information_schema.tables"
                " where table_type in ('BASE TABLE', 'VIEW') and table_schema not in"
                " ('pg_catalog', 'information_schema')"
            )
        ).all()
        found = []
        for schema, table in tables:
            hit = conn.execute(
                sa.text(
                    f'select exists (select 1 from "{schema}"."{table}" t'
                    " where strpos(t::text, :needle) > 0)"
                ),
                {"needle": needle},
            ).scalar()
            if hit:
                found.append(f"{schema}.{table}")
    return found


# Four whole `run-once` passes (each with a dbt build): on two shared cores under a parallel
# suite that is more than the suite's default limit per test.
@pytest.mark.timeout(900)
def test_wrong_secret_opens_one_incident_and_the_right_one_resolves_it(
    simulator, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["run-once"])
    assert first.exit_code == 0, first.output
    healthy = runner.invoke(app, ["health"])
    assert healthy.exit_code == 0, healthy.output

    right_secret = simulator.env["ST_CLIENT_SECRET"]
    monkeypatch.setenv("ST_CLIENT_SECRET", WRONG_SECRET)
    outputs = [runner.invoke(app, ["run-once"]) for _ in range(2)]
    assert all(result.exit_code == 1 for result in outputs)

    sick = runner.invoke(app, ["health", "--json"])
    assert sick.exit_code == 1, sick.output
    report = json.loads(sick.output)
    assert report["healthy"] is False
    with engine.connect() as conn:
        open_rows = (
            conn.execute(sa.text("select * from monitoring.incidents where status = 'open'"))
            .mappings()
            .all()
        )
    assert len(open_rows) == 1
    [incident] = open_rows
    assert incident["kind"] == "auth_failed"
    assert incident["source"] == "servicetitan"
    assert incident["occurrences"] == 2  # one per run, however many entities failed in each
    assert "credentials" in incident["diagnosis"] and "refused" in incident["diagnosis"]
    assert "ST_CLIENT_SECRET" in incident["suggested_fix"]
    assert len(incident["entities"]) > 1  # every entity it stopped, on the one incident

    assert tables_containing(engine, WRONG_SECRET) == []
    for result in [*outputs, sick]:
        assert WRONG_SECRET not in result.output
    assert WRONG_SECRET not in caplog.text

    monkeypatch.setenv("ST_CLIENT_SECRET", right_secret)
    fixed = runner.invoke(app, ["run-once"])
    assert fixed.exit_code == 0, fixed.output
    with engine.connect() as conn:
        after = conn.execute(
            sa.text("select status, resolved_by from monitoring.incidents where id = :id"),
            {"id": incident["id"]},
        ).one()
    assert after.status == "resolved"
    assert after.resolved_by.startswith("run cli:")
    again = runner.invoke(app, ["health"])
    assert again.exit_code == 0, again.output
