"""`perfect-catch outbox status|reconcile|release` against the Twilio and SendGrid simulators:
rows the provider holds are recorded sent, rows it never got are released and then sent once,
rows it cannot be asked about stay `unknown` and make the command exit 1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import sqlalchemy as sa
from messaging_world import Messaging
from typer.testing import CliRunner

from perfect_catch.cli import app
from perfect_catch.messaging.claims import claim_due
from perfect_catch.messaging.dispatch_result import DispatchResult
from perfect_catch.messaging.reconcile import reconcile

runner = CliRunner()


def _crash_after_claim(world: Messaging, keys: list[str], *, handed_over: set[str]) -> None:
    """Claim `keys` as a dispatcher would, hand the `handed_over` ones to the provider, and
    die before recording anything: the rows stay `sending`."""
    now = datetime.now(UTC)
    claims = claim_due(
        world.engine,
        world.settings,
        world.messaging,
        now=now,
        limit=50,
        result=DispatchResult(),
        only_keys=keys,
    )
    assert sorted(c.key for c in claims) == sorted(keys)
    for claim in claims:
        if claim.key in handed_over:
            world.providers.for_channel(claim.channel).send(claim.message())


def _make_unknown(world: Messaging, keys: list[str]) -> None:
    """What an earlier pass leaves when it could not settle a claim."""
    with world.engine.begin() as conn:
        conn.execute(
            sa.text(
                "update automation.outbox set status = 'unknown', claimed_at = now() - interval"
                " '1 hour', last_error = 'claimed and never recorded' where idempotency_key ="
                " any(:keys)"
            ),
            {"keys": keys},
        )


def _setup(world: Messaging) -> None:
    # Quiet hours off: the test runs at any wall-clock time.
    world.messaging.messaging_quiet_hours_start = world.messaging.messaging_quiet_hours_end
    world.enqueue("sms-had", to="+16025550201", body="Your visit is confirmed (1)")
    world.enqueue("sms-never", to="+16025550202", body="Your visit is confirmed (2)")
    world.enqueue("sms-stale", to="+16025550203", body="Your visit is confirmed (3)")
    for key, to in (("mail-had", "had@example.com"), ("mail-never", "never@example.com")):
        world.enqueue(key, channel="email", to=to, subject="Visit", body=f"Visit ({key})")
    _crash_after_claim(
        world,
        ["sms-had", "sms-never", "sms-stale", "mail-had", "mail-never"],
        handed_over={"sms-had", "mail-had"},
    )
    _make_unknown(world, ["sms-had", "sms-never", "mail-had", "mail-never"])
    with world.engine.begin() as conn:  # a claim left `sending` by a dispatcher that died
        conn.execute(
            sa.text(
                "update automation.outbox set claimed_at = now() - interval '1 hour'"
                " where idempotency_key = 'sms-stale'"
            )
        )


def test_outbox_reconcile_marks_sent_what_the_provider_has_and_releases_the_rest(
    world: Messaging,
) -> None:
    _setup(world)
    status = runner.invoke(app, ["outbox", "status", "--json"])
    assert status.exit_code == 1, status.output
    listed = orjson.loads(status.output)
    assert listed["unknown_count"] == 4
    assert listed["counts"]["sending"] == {"sms": 1}
    assert all(row["to"].startswith("***") for row in listed["unknown"])
    assert "6025550201" not in status.output and "had@example.com" not in status.output

    result = runner.invoke(app, ["outbox", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "2 reconciled as sent, 3 released, 0 unknown" in result.output
    assert world.row("sms-had")["status"] == "sent"
    assert world.row("sms-had")["provider_id"].startswith("SM")
    assert world.row("mail-had")["status"] == "sent"
    for key in ("sms-never", "sms-stale", "mail-never"):
        row = world.row(key)
        assert row["status"] == "pending", key
        assert "holds no such message" in row["last_error"]

    dispatched = world.dispatch(now=datetime.now(UTC))
    assert dispatched.sent == 3
    for number in ("+16025550201", "+16025550202", "+16025550203"):
        assert len(world.sms_to(number)) == 1, number
    assert world.row("mail-never")["status"] == "sent"
    mails = [m["to"] for m in world.sendgrid.mails.values()]
    assert sorted(mails) == ["had@example.com", "never@example.com"]
    assert world.row("mail-had")["provider_id"] in world.sendgrid.mails


def test_rows_the_provider_cannot_be_asked_about_stay_unknown(world: Messaging) -> None:
    world.messaging.messaging_quiet_hours_start = world.messaging.messaging_quiet_hours_end
    world.enqueue("sms-down", to="+16025550204", body="Your visit is confirmed (4)")
    _crash_after_claim(world, ["sms-down"], handed_over=set())
    _make_unknown(world, ["sms-down"])
    world.sim.set_faults(rate_5xx=1.0)
    try:
        report = reconcile(world.engine, world.providers, world.messaging, now=datetime.now(UTC))
        cli = runner.invoke(app, ["outbox", "reconcile"])
    finally:
        world.sim.set_faults(rate_5xx=0.0)
    assert (report.sent, report.released, report.unknown) == (0, 0, 1)
    assert cli.exit_code == 1 and "1 unknown" in cli.output
    assert world.row("sms-down")["status"] == "unknown"

    refused = runner.invoke(app, ["outbox", "release", "999999"], input="y\n")
    assert refused.exit_code == 1 and "no such outbox row" in refused.output
    row_id = str(world.row("sms-down")["id"])
    declined = runner.invoke(app, ["outbox", "release", row_id], input="n\n")
    assert declined.exit_code != 0 and world.row("sms-down")["status"] == "unknown"
    released = runner.invoke(app, ["outbox", "release", row_id], input="y\n")
    assert released.exit_code == 0 and f"#{row_id}: released" in released.output
    assert world.row("sms-down")["status"] == "pending"
    assert world.dispatch(now=datetime.now(UTC) + timedelta(seconds=1)).sent == 1
    assert len(world.sms_to("+16025550204")) == 1
