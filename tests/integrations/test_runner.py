"""The CLI-facing runs work from settings alone, against the simulator host's env."""

from __future__ import annotations

import sqlalchemy as sa

from perfect_catch.integrations.ghl_reconcile import ReconcileResult
from perfect_catch.integrations.runner import run_callrail_sync, run_ghl_reconcile, run_ghl_sync
from perfect_catch.settings import load_settings


def test_runs_from_settings(simulator, engine: sa.Engine, monkeypatch) -> None:
    settings = load_settings()
    results = run_ghl_sync(settings, engine=engine)
    assert [r.entity for r in results] == ["pipelines", "contacts", "opportunities"]
    assert results[1].records == len(simulator.system("gohighlevel").contacts)
    calls = run_callrail_sync(settings, engine=engine)
    assert calls.records == len(simulator.system("callrail").calls)
    # ServiceTitan was not synced: reconciling each configured tenant finds nothing to push.
    tenant_ids = [int(t) for t in simulator.env["ST_TENANT_IDS"].split(",")]
    assert run_ghl_reconcile(settings, engine=engine) == {t: ReconcileResult() for t in tenant_ids}
