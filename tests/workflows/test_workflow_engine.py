"""The engine: instances are made once per (workflow, event), steps run once per instance,
conditions are checked again before every step and waits land on the right instant."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa
from workflow_support import E164, NOON, TENANT, Flow, hours, make_flow

from perfect_catch.messaging.consent import record_consent
from perfect_catch.workflows.definitions import set_enabled
from perfect_catch.workflows.matching import MatchResult
from perfect_catch.workflows.passes import process_events_once
from perfect_catch.workflows.progress import match_new_events, read_cursor
from perfect_catch.workflows.running import TERMINAL, InstanceResult
from perfect_catch.workflows.steps.wait import next_local_time


def _drive(flow: Flow, instance_id: int, start: datetime, until: datetime) -> InstanceResult:
    """Run the instance at each of its due times, as the due sensor would, up to `until`."""
    moment = start
    result = flow.run(instance_id, moment)
    while result.status not in TERMINAL and result.next_run_at and result.next_run_at <= until:
        moment = max(moment, result.next_run_at)
        result = flow.run(instance_id, moment)
    return result


def _followup(flow: Flow, estimate_id: int = 9001, total: float = 1500.0) -> int:
    flow.add_customer()
    flow.add_estimate(estimate_id, subtotal=total)
    flow.estimate_created(estimate_id, NOON, total)
    matched = flow.match(NOON)
    ids = [i["id"] for i in flow.instances_of("estimate_followup")]
    assert len(ids) == 1 and ids[0] in matched.instances
    return ids[0]


def test_event_twice_and_retried_runs_never_repeat_a_step(flow: Flow) -> None:
    instance_id = _followup(flow)
    again = flow.match(NOON)
    assert again.created == 0
    assert len(flow.instances_of("estimate_followup")) == 1

    first = flow.run(instance_id, NOON + hours(2))
    assert [s.key for s in first.steps] == ["wait_2h", "sms_1", "wait_2d"]
    # The same run retried (Dagster retry, a second sensor request): nothing new happens.
    retried = flow.run(instance_id, NOON + hours(2))
    assert retried.steps == [] and retried.status == "waiting"
    keys = [row["idempotency_key"] for row in flow.outbox()]
    assert keys == [f"{instance_id}:sms_1"]

    # A lost step record (crash after the outbox commit is impossible: they share a
    # transaction; here the record is removed by hand) still cannot add a second message.
    with flow.engine.begin() as conn:
        conn.execute(
            sa.text(
                "delete from automation.workflow_step_runs where instance_id = :i"
                " and step_key in ('sms_1', 'wait_2d')"
            ),
            {"i": instance_id},
        )
        conn.execute(
            sa.text(
                "update automation.workflow_instances set next_step = 'sms_1',"
                " next_run_at = :t where id = :i"
            ),
            {"i": instance_id, "t": NOON + hours(2)},
        )
    flow.run(instance_id, NOON + hours(3))
    assert [row["idempotency_key"] for row in flow.outbox()] == [f"{instance_id}:sms_1"]
    runs = {r["step_key"]: r for r in flow.step_runs(instance_id)}
    assert runs["sms_1"]["status"] == "succeeded"


def test_followup_sends_four_messages_at_most_and_completes(flow: Flow) -> None:
    instance_id = _followup(flow)
    result = _drive(flow, instance_id, NOON, NOON + timedelta(days=30))
    assert result.status == "completed"
    messages = flow.outbox()
    assert [m["step_key"] for m in messages] == ["sms_1", "sms_2", "sms_3", "sms_4"]
    assert all(m["to_address"] == E164 and m["channel"] == "sms" for m in messages)
    assert "$1,500" in messages[0]["body"] and "Pool heater install" in messages[0]["body"]
    assert "10% off" in messages[3]["body"] and "{{" not in messages[3]["body"]
    assert "June 21" in messages[3]["body"]  # deadline: sent June 14 + 7 days


def test_small_or_closed_estimates_start_nothing(flow: Flow) -> None:
    flow.add_customer()
    flow.add_estimate(1, subtotal=400)
    flow.estimate_created(1, NOON, 400)
    flow.add_estimate(2, status="Sold", subtotal=5000)
    flow.estimate_created(2, NOON, 5000)
    flow.match(NOON)
    assert flow.instances_of("estimate_followup") == []


def test_selling_the_estimate_cancels_its_remaining_followups(flow: Flow) -> None:
    instance_id = _followup(flow)
    _drive(flow, instance_id, NOON, NOON + timedelta(days=1))
    assert [m["step_key"] for m in flow.outbox()] == ["sms_1"]

    flow.set_estimate_status(9001, "Sold")
    result = _drive(flow, instance_id, NOON + timedelta(days=1), NOON + timedelta(days=30))
    assert result.status == "stopped"
    instance = flow.instance(instance_id)
    assert "estimate_open" in instance["stop_reason"]
    assert instance["next_run_at"] is None
    assert [m["step_key"] for m in flow.outbox()] == ["sms_1"]


def test_stop_then_a_new_event_sends_nothing(flow: Flow) -> None:
    flow.add_customer()
    with flow.engine.begin() as conn:
        record_consent(
            conn,
            channel="sms",
            address=E164,
            opted_out=True,
            source="twilio_inbound",
            reason="STOP",
            tenant_id=TENANT,
        )
    flow.add_estimate(9002)
    flow.estimate_created(9002, NOON)
    flow.add_event(
        "job_completed", occurred_at=NOON, job_id=77, payload={"job": {"id": 77, "number": "77"}}
    )
    flow.match(NOON)
    for instance in flow.rows("select id from automation.workflow_instances"):
        _drive(flow, instance["id"], NOON, NOON + timedelta(days=30))
    sms = [m for m in flow.outbox() if m["channel"] == "sms"]
    assert sms == []
    stopped = flow.rows(
        "select definition_name, stop_reason from automation.workflow_instances"
        " where definition_name in ('estimate_followup', 'review_request')"
    )
    assert len(stopped) == 2
    assert all("customer_not_opted_out" in row["stop_reason"] for row in stopped)


def test_a_step_due_at_2230_customer_time_waits_for_the_morning(
    events_engine: sa.Engine, tmp_path: Path
) -> None:
    (tmp_path / "late.yaml").write_text(
        """
name: late_reminder
description: Waits for the customer's morning before texting.
timezone: America/Los_Angeles
trigger: {event: invoice_overdue}
steps:
  - {key: morning, type: wait, at_time: "09:00"}
  - {key: sms, type: send_sms, body: "Invoice {{ invoice.reference_number }} is due."}
"""
    )
    flow = make_flow(events_engine, tmp_path)
    try:
        # 22:30 in Los Angeles on the evening before daylight saving time starts (8 March 2026).
        late = datetime(2026, 3, 8, 6, 30, tzinfo=UTC)
        flow.add_invoice(31, 120.0)
        flow.add_event(
            "invoice_overdue",
            occurred_at=late,
            invoice_id=31,
            payload={"invoice": {"id": 31, "reference_number": "INV-31"}, "threshold_days": 7},
        )
        flow.match(late)
        instance_id = flow.instances_of("late_reminder")[0]["id"]
        result = flow.run(instance_id, late)
        # 09:00 PDT (UTC-7, the clocks changed overnight), not 09:00 PST.
        assert result.status == "waiting"
        assert result.next_run_at == datetime(2026, 3, 8, 16, 0, tzinfo=UTC)
        assert flow.outbox() == []
        assert flow.run(instance_id, datetime(2026, 3, 8, 15, 59, tzinfo=UTC)).steps == []
        assert flow.run(instance_id, datetime(2026, 3, 8, 16, 0, tzinfo=UTC)).status == "completed"
        assert len(flow.outbox()) == 1
    finally:
        flow.services.close()


def test_next_local_time_across_zones() -> None:
    evening = datetime(2030, 6, 4, 5, 30, tzinfo=UTC)  # 22:30 in Los Angeles, 01:30 in New York
    assert next_local_time(evening, time(9), "America/Los_Angeles") == datetime(
        2030, 6, 4, 16, 0, tzinfo=UTC
    )
    assert next_local_time(evening, time(9), "America/New_York") == datetime(
        2030, 6, 4, 13, 0, tzinfo=UTC
    )
    assert next_local_time(evening, time(9), "America/Phoenix") == datetime(
        2030, 6, 4, 16, 0, tzinfo=UTC
    )
    # In the autumn the same wall-clock time is an hour later in UTC.
    autumn = datetime(2030, 11, 3, 5, 30, tzinfo=UTC)
    assert next_local_time(autumn, time(9), "America/Los_Angeles") == datetime(
        2030, 11, 3, 17, 0, tzinfo=UTC
    )


def test_disabled_workflows_and_paused_instances_do_not_run(flow: Flow) -> None:
    instance_id = _followup(flow)
    set_enabled(flow.engine, "estimate_followup", False)
    assert flow.run(instance_id, NOON + hours(3)).steps == []
    set_enabled(flow.engine, "estimate_followup", True)
    with flow.engine.begin() as conn:
        conn.execute(
            sa.text("update automation.workflow_instances set paused = true where id = :i"),
            {"i": instance_id},
        )
    assert flow.run(instance_id, NOON + hours(3)).steps == []
    assert flow.outbox() == []


def test_a_placeholder_without_value_fails_the_step_and_sends_nothing(
    events_engine: sa.Engine, tmp_path: Path
) -> None:
    (tmp_path / "tech.yaml").write_text(
        """
name: tech_intro
description: Introduces the technician.
trigger: {event: appointment_created}
steps:
  - {key: sms, type: send_sms, body: "{{ technician_name }} is on the way."}
"""
    )
    flow = make_flow(events_engine, tmp_path)
    try:
        flow.add_event(
            "appointment_created",
            occurred_at=NOON,
            appointment_id=5,
            payload={"appointment": {"id": 5, "start": "2030-06-05T15:00:00Z"}},
        )
        flow.match(NOON)
        instance_id = flow.instances_of("tech_intro")[0]["id"]
        result = flow.run(instance_id, NOON)
        assert result.status == "failed"
        assert "technician_name" in flow.instance(instance_id)["last_error"]
        assert flow.outbox() == []
    finally:
        flow.services.close()


def test_process_events_once_matches_and_runs_due_steps(flow: Flow) -> None:
    flow.add_customer()
    flow.add_estimate(9003)
    flow.estimate_created(9003, NOON - hours(3))
    flow.add_event(
        "estimate_created",
        occurred_at=NOON - timedelta(days=400),
        estimate_id=9004,
        is_backfill=True,
        payload={"estimate": {"id": 9004, "name": "Old", "total": 9000}},
    )
    summary = process_events_once(flow.engine, flow.settings, NOON, services=flow.services)
    assert summary.events == 2 and summary.cursor == 2
    assert summary.instances_created == 2  # follow-up and estimate email; history is skipped
    keys = sorted(m["step_key"] for m in flow.outbox())
    assert keys == ["email_estimate", "sms_1"]
    assert summary.line().startswith("2 new events, 2 workflows started, 2 instances run")
    again = process_events_once(flow.engine, flow.settings, NOON, services=flow.services)
    assert again.events == 0 and again.instances_created == 0
    assert len(flow.outbox()) == 2


def test_appointment_reminder_a_day_before_unless_just_confirmed(flow: Flow) -> None:
    flow.add_customer()
    for appointment_id, ahead in ((61, timedelta(days=3)), (62, timedelta(hours=6))):
        start = NOON + ahead
        flow.add_appointment(appointment_id, start)
        flow.add_event(
            "appointment_created",
            occurred_at=NOON,
            appointment_id=appointment_id,
            payload={"appointment": {"id": appointment_id, "start": start.isoformat()}},
        )
    flow.match(NOON)
    far, near = (i["id"] for i in flow.instances_of("appointment_confirmation"))
    waiting = flow.run(far, NOON)
    assert waiting.next_run_at == NOON + timedelta(days=2)
    assert flow.run(far, NOON + timedelta(days=2)).status == "completed"
    assert flow.run(near, NOON).status == "completed"
    sent = [(m["instance_id"], m["step_key"]) for m in flow.outbox()]
    assert sent == [
        (far, "sms_confirmation"),
        (far, "sms_reminder"),
        (near, "sms_confirmation"),
    ]
    # 16:00 UTC in the customer's zone: their 602 number places them in Phoenix (UTC-7).
    assert "Friday June 7 at 9:00 AM" in flow.outbox()[0]["body"]
    assert [r["status"] for r in flow.step_runs(near)][-1] == "skipped"


def test_review_request_reminds_once_unless_a_review_came_in(flow: Flow) -> None:
    flow.add_customer()
    flow.add_event("job_completed", occurred_at=NOON, job_id=81, payload={"job": {"id": 81}})
    flow.match(NOON)
    instance_id = flow.instances_of("review_request")[0]["id"]
    flow.run(instance_id, NOON + hours(2))
    assert [m["step_key"] for m in flow.outbox()] == ["sms_review"]
    assert flow.config.review_link in flow.outbox()[0]["body"]

    with flow.engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into integrations.ghl_contacts (location_id, id, tags, raw)"
                " values ('loc', 'c1', array['Review Received'], '{}'::jsonb)"
            )
        )
        conn.execute(
            sa.text(
                "insert into integrations.ghl_customer_contacts (tenant_id, customer_id,"
                " location_id, contact_id, matched_by) values (:t, :c, 'loc', 'c1', 'phone')"
            ),
            {"t": TENANT, "c": 501},
        )
    result = _drive(flow, instance_id, NOON + hours(2), NOON + timedelta(days=10))
    assert result.status == "stopped"
    assert "review_not_received" in flow.instance(instance_id)["stop_reason"]
    assert len(flow.outbox()) == 1


def test_payment_reminder_wording_follows_the_threshold(flow: Flow) -> None:
    flow.add_customer()
    flow.add_invoice(91, 250.0)
    for threshold in (1, 30):
        flow.add_event(
            "invoice_overdue",
            occurred_at=NOON,
            invoice_id=91,
            payload={
                "invoice": {"id": 91, "reference_number": "INV-91", "balance": 250.0},
                "threshold_days": threshold,
            },
        )
    flow.match(NOON)
    for instance in flow.instances_of("payment_reminders"):
        _drive(flow, instance["id"], NOON, NOON + timedelta(days=2))
    messages = flow.outbox()
    assert [(m["channel"], m["step_key"]) for m in messages] == [
        ("sms", "sms_reminder"),
        ("sms", "sms_reminder"),
        ("email", "email_reminder"),
    ]
    assert "was due yesterday" in messages[0]["body"]
    assert "30 days past due" in messages[1]["body"] and "$250" in messages[1]["body"]


def test_no_payment_reminder_for_an_invoice_its_payments_cover(flow: Flow) -> None:
    """ServiceTitan still shows a balance on invoice 93, but payments applied to it cover the
    total: it is paid (the rule the invoices mart uses), so no reminder goes out. Invoice 94
    is only partly paid and is still reminded about."""
    flow.add_customer()
    flow.add_invoice(93, 250.0)
    flow.add_payment(7001, 93, 200.0)
    flow.add_payment(7002, 93, 50.0)
    flow.add_invoice(94, 250.0)
    flow.add_payment(7003, 94, 100.0)
    for invoice_id in (93, 94):
        flow.add_event(
            "invoice_overdue",
            occurred_at=NOON,
            invoice_id=invoice_id,
            payload={
                "invoice": {
                    "id": invoice_id,
                    "reference_number": f"INV-{invoice_id}",
                    "balance": 250.0,
                },
                "threshold_days": 1,
            },
        )
    flow.match(NOON)
    for instance in flow.instances_of("payment_reminders"):
        _drive(flow, instance["id"], NOON, NOON + timedelta(days=2))
    reminded = flow.rows(
        "select w.invoice_id from automation.outbox o"
        " join automation.workflow_instances w on w.id = o.instance_id"
    )
    assert [r["invoice_id"] for r in reminded] == [94]


def test_paths_matching_at_once_take_turns_on_the_one_cursor(events_engine: sa.Engine) -> None:
    """Four walkers at once (small batches): every event is matched by exactly one of them."""
    flow = make_flow(events_engine, workflow_event_batch=2)
    try:
        flow.add_customer()
        for n in range(10):
            flow.add_estimate(9500 + n)
            flow.estimate_created(9500 + n, NOON - hours(3), 1000.0 + n)
        start = threading.Barrier(4)
        results: list[MatchResult] = []

        def walk() -> None:
            start.wait()
            results.append(match_new_events(flow.engine, flow.settings, now=NOON))

        walkers = [threading.Thread(target=walk) for _ in range(4)]
        for walker in walkers:
            walker.start()
        for walker in walkers:
            walker.join()
        assert len(results) == 4
        assert sum(r.events for r in results) == 10
        reported = [i for r in results for i in r.instances]
        assert sum(r.created for r in results) == len(reported) == len(set(reported)) == 20
        assert read_cursor(flow.engine) == 10 and {r.cursor for r in results} == {10}
    finally:
        flow.services.close()
