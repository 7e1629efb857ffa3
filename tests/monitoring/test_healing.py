"""Healing and recording under failure: stuck outbox rows, a worker killed mid-step, two
recorders racing on one cause, bad credentials over many runs, a simulator down mid-sync."""

from __future__ import annotations

import logging
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from perfect_catch.messaging import sending
from perfect_catch.monitoring import healing
from perfect_catch.monitoring.classify import describe
from perfect_catch.monitoring.incidents import Failure, record_failure
from perfect_catch.monitoring.scrub import Scrubber
from perfect_catch.settings import load_settings
from perfect_catch.sync_cli import run_servicetitan_sync
from perfect_catch.workflows import running

sys.path.insert(0, str(Path(__file__).parents[1] / "messaging"))
sys.path.insert(0, str(Path(__file__).parents[1] / "workflows"))

from messaging_world import NOON, Messaging, world  # noqa: E402
from workflow_support import NOON as FLOW_NOON  # noqa: E402
from workflow_support import hours, make_flow  # noqa: E402

__all__ = ["world"]

WRONG_SECRET = "cs9.bad-secret-0c4e5d"


def _open(engine: sa.Engine) -> list[dict]:
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.text("select * from monitoring.incidents where status = 'open' order by id")
            ).mappings()
        ]


# --- outbox -----------------------------------------------------------------------------------


def _die_after_send(world: Messaging, monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    world.enqueue(key)
    real = sending.record_sent

    def die(*args, **kwargs):
        raise SystemExit("killed after the provider accepted the message")

    monkeypatch.setattr(sending, "record_sent", die)
    with pytest.raises(SystemExit):
        world.dispatch()
    monkeypatch.setattr(sending, "record_sent", real)


def test_a_sending_row_the_provider_received_is_marked_sent_not_resent(
    world: Messaging, monkeypatch: pytest.MonkeyPatch
) -> None:
    _die_after_send(world, monkeypatch, "healed")
    assert world.row("healed")["status"] == "sending"
    assert len(world.sms_to()) == 1

    early = healing.heal_outbox(world.engine, world.settings, now=NOON + timedelta(minutes=1))
    assert early["reconciled"] == 0  # the claim is not stale yet
    summary = healing.heal_outbox(world.engine, world.settings, now=NOON + timedelta(minutes=10))
    assert summary["reconciled"] == 1
    row = world.row("healed")
    assert row["status"] == "sent" and row["provider_id"] == world.sms_to()[0]["sid"]
    assert world.dispatch(now=NOON + timedelta(hours=1)).sent == 0
    assert len(world.sms_to()) == 1
    actions = world.rows("select action, result from monitoring.healing_actions")
    assert actions == [
        {"action": "reconcile_outbox", "result": "1 reconciled as sent, 0 released, 0 unknown"}
    ]
    incidents = world.rows("select kind, status, resolved_by from monitoring.incidents")
    assert incidents == [
        {
            "kind": "outbox_stuck",
            "status": "resolved",
            "resolved_by": "stuck outbox rows reconciled with their provider",
        }
    ]


def test_a_sending_row_the_provider_never_got_is_sent_exactly_once(
    world: Messaging, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.enqueue("lost")
    provider = world.providers.for_channel("sms")
    real = provider.send

    def die(message):
        raise SystemExit("killed before the request left")

    monkeypatch.setattr(provider, "send", die)
    with pytest.raises(SystemExit):
        world.dispatch()
    monkeypatch.setattr(provider, "send", real)
    assert world.sms_to() == []
    healing.heal_outbox(world.engine, world.settings, now=NOON + timedelta(minutes=10))
    world.dispatch(now=NOON + timedelta(minutes=20))
    world.dispatch(now=NOON + timedelta(minutes=30))
    assert len(world.sms_to()) == 1
    assert world.row("lost")["status"] == "sent"


# --- workflows --------------------------------------------------------------------------------


class Killed(BaseException):
    """The worker process dying: not an `Exception`, so nothing in the engine catches it."""


def test_a_workflow_killed_mid_step_resumes_without_a_duplicate_message(
    events_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = make_flow(events_engine)
    try:
        flow.add_customer()
        flow.add_estimate(9001, subtotal=1500.0)
        flow.estimate_created(9001, FLOW_NOON, 1500.0)
        flow.match(FLOW_NOON)
        [instance] = flow.instances_of("estimate_followup")
        flow.run(instance["id"], FLOW_NOON)  # the first wait

        def killed(*args, **kwargs):
            raise Killed("worker killed while sms_1 was being recorded")

        monkeypatch.setattr(running, "step_succeeded", killed)
        with pytest.raises(Killed):
            flow.run(instance["id"], FLOW_NOON + hours(2))
        monkeypatch.undo()
        assert flow.outbox() == []  # the step's transaction died with the worker

        now = FLOW_NOON + hours(3)
        counts = healing.resume_workflows(flow.engine, flow.settings, now=now)
        assert counts.get("waiting") == 1
        assert flow.instance(instance["id"])["next_step"] == "sms_2"  # waiting for it
        mine = [r["idempotency_key"] for r in flow.outbox() if r["instance_id"] == instance["id"]]
        assert mine == [f"{instance['id']}:sms_1"]
        before = flow.outbox()
        assert healing.resume_workflows(flow.engine, flow.settings, now=now) == {}
        assert flow.outbox() == before  # resumed once: nothing more, nothing twice
        with flow.engine.connect() as conn:
            incidents = conn.execute(sa.text("select kind, status from monitoring.incidents")).all()
            actions = conn.execute(
                sa.text("select action, target, result from monitoring.healing_actions")
            ).all()
        assert [(i.kind, i.status) for i in incidents] == [("workflow_stuck", "resolved")]
        assert ("resume_workflow", "waiting") in [(a.action, a.result) for a in actions]
    finally:
        flow.services.close()


# --- recording --------------------------------------------------------------------------------


def test_two_recorders_racing_on_one_fingerprint_leave_one_open_incident(
    engine: sa.Engine,
) -> None:
    scrub = Scrubber()
    diagnosis = describe("source_down", "servicetitan")
    rounds, racers = 10, 4
    for round_number in range(rounds):
        barrier = threading.Barrier(racers)
        errors: list[BaseException] = []

        def record(
            n: int,
            round_number: int = round_number,
            barrier: threading.Barrier = barrier,
            errors: list[BaseException] = errors,
        ) -> None:
            try:
                barrier.wait()
                record_failure(
                    engine,
                    scrub,
                    Failure(
                        "servicetitan",
                        diagnosis,
                        "HTTP 503",
                        f"run-{round_number}-{n}",
                        "1000001",
                        f"entity{n}",
                    ),
                )
            except BaseException as error:  # surfaced below
                errors.append(error)

        threads = [threading.Thread(target=record, args=(n,)) for n in range(racers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
    [incident] = _open(engine)
    assert incident["occurrences"] == rounds * racers
    assert sorted(incident["entities"]) == [f"entity{n}" for n in range(racers)]


def test_bad_credentials_make_one_incident_one_alert_and_are_never_retried(
    simulator, engine: sa.Engine, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = load_settings(
        database_url=database_url,
        st_client_secret=WRONG_SECRET,
        alert_emails="oncall@example.com",
        alert_sms="(602) 555-0199",
        monitoring_rerun_base_seconds=1,
    )
    for _ in range(3):
        failures = run_servicetitan_sync(
            settings, settings.st_tenant_ids, ["technicians", "jobs"], full=False
        )
        assert len(failures) == 2
    [incident] = _open(engine)
    assert incident["kind"] == "auth_failed" and incident["occurrences"] == 3
    assert "ST_CLIENT_SECRET" in incident["suggested_fix"]
    assert "refused" in incident["diagnosis"]

    # Permanent: however late it is, the healer plans no re-run.
    later = datetime.now(UTC) + timedelta(days=2)
    assert healing.plan_reruns(engine, settings, now=later) == []

    with engine.connect() as conn:
        alerts = conn.execute(
            sa.text("select event, channel, status from monitoring.alerts order by channel")
        ).all()
    assert [(a.event, a.channel) for a in alerts] == [
        ("opened", "email"),
        ("opened", "slack"),
        ("opened", "sms"),
    ]
    slack = simulator.system("slack")
    assert len(slack.texts()) == 1 and "auth_failed" in slack.texts()[0]

    from perfect_catch.messaging.dispatcher import dispatch_due

    # Tomorrow noon in New York: operator SMS keep the outbox's quiet hours too.
    noon = (datetime.now(UTC) + timedelta(days=1)).replace(hour=16, minute=0)
    dispatch_due(engine, settings, now=noon)
    emails = list(simulator.system("sendgrid").mails.values())
    texts = [str(m) for m in emails] + [str(m) for m in simulator.system("twilio").outbound()]
    assert len(texts) == 2
    for text in [*texts, *slack.texts(), caplog.text]:
        assert WRONG_SECRET not in text
    with engine.connect() as conn:
        for table in (
            "monitoring.incidents",
            "monitoring.sync_runs",
            "monitoring.alerts",
            "automation.outbox",
        ):
            hit = conn.execute(
                sa.text(f"select count(*) from {table} t where strpos(t::text, :s) > 0"),
                {"s": WRONG_SECRET},
            ).scalar()
            assert hit == 0, table
