"""`run-once`'s outbox stage reconciles first and says what it did; rows left `unknown` make
it fail (exit 1) naming why and what to do."""

from __future__ import annotations

import pytest
from messaging_world import Messaging
from test_outbox_reconcile import _crash_after_claim, _make_unknown
from typer.testing import CliRunner

from perfect_catch import run_once
from perfect_catch.cli import app


@pytest.fixture
def outbox_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_once, "STAGES", (("outbox", run_once._outbox),))
    # Quiet hours off: the test runs at any wall-clock time.
    monkeypatch.setenv("MESSAGING_QUIET_HOURS_START", "00:00")
    monkeypatch.setenv("MESSAGING_QUIET_HOURS_END", "00:00")


def test_run_once_reports_reconciled_rows_and_fails_on_unknown(
    world: Messaging, outbox_only: None
) -> None:
    world.messaging.messaging_quiet_hours_start = world.messaging.messaging_quiet_hours_end
    world.enqueue("had", to="+16025550301", body="Confirmed (had)")
    world.enqueue("down", to="+16025550302", body="Confirmed (down)")
    _crash_after_claim(world, ["had", "down"], handed_over={"had"})
    _make_unknown(world, ["had", "down"])

    world.sim.set_faults(rate_5xx=1.0)
    try:
        failed = CliRunner().invoke(app, ["run-once"])
    finally:
        world.sim.set_faults(rate_5xx=0.0)
    assert failed.exit_code == 1, failed.output
    assert "left unknown" in " ".join(failed.output.split())
    assert world.row("had")["status"] == "unknown"

    passed = CliRunner().invoke(app, ["run-once"])
    assert passed.exit_code == 0, passed.output
    assert "reconciled: 1 sent, 1 released" in " ".join(passed.output.split())
    assert world.row("had")["status"] == "sent"
    assert world.row("down")["status"] == "sent"
    assert len(world.sms_to("+16025550301")) == 1 and len(world.sms_to("+16025550302")) == 1
