"""The supplier prices contract: after `simulate --size small`, `db upgrade` and `run-once`, the
price history holds all three suppliers, the cost drift mart has rows, a second run-once adds
no history row, and after the host-level advance of 7 days the next run-once adds some."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from perfect_catch.cli import app


def _history(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("select count(*) from pricebook.vendor_prices")).scalar_one()


def _run_once() -> None:
    result = CliRunner().invoke(app, ["run-once"])
    assert result.exit_code == 0, result.output
    assert "suppliers" in result.output


# Three whole run-once passes (every sync, every dbt model): longer than the suite's default.
@pytest.mark.timeout(900)
def test_run_once_contract(simulator, engine: sa.Engine, monkeypatch) -> None:
    monkeypatch.setenv("SUPPLIER_REQUESTS_PER_SECOND", "25")
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
    _run_once()
    with engine.connect() as conn:
        vendors = set(
            conn.execute(sa.text("select distinct vendor from pricebook.vendor_prices")).scalars()
        )
        drift = conn.execute(sa.text("select count(*) from marts.material_cost_drift")).scalar()
    assert any("Pool360" in v for v in vendors)
    assert any("CED" in v for v in vendors)
    assert any("Home Depot" in v for v in vendors)
    assert drift > 0
    first = _history(engine)

    _run_once()
    assert _history(engine) == first

    response = httpx.post(f"{simulator.base_url}/_admin/advance", json={"days": 7})
    assert response.status_code == 200, response.text
    _run_once()
    assert _history(engine) > first
