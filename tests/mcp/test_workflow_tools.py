"""Workflow tools through the MCP client: list the workflows, see an event's or a customer's
instances, pause and resume one."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import sqlalchemy as sa

from perfect_catch.workflows.matching import match_events
from perfect_catch.workflows.passes import sync_from_files
from perfect_catch.workflows.running import due_instances

NOW = datetime(2030, 6, 4, 16, 0, tzinfo=UTC)


def _start_review_request(world) -> tuple[int, str, int]:
    """(customer id, event id, instance id) of a review request for a real customer's job."""
    job = world.rows(
        """select j.id, j.customer_id from servicetitan.st_jobs j
           join servicetitan.st_customers c on c.tenant_id = j.tenant_id and c.id = j.customer_id
           where j.tenant_id = :t and not coalesce(c.do_not_service, false)
             and not coalesce(c.do_not_mail, false)
           order by j.id limit 1""",
        t=world.tenant_id,
    )[0]
    event_id = f"job_completed:{job['id']}"
    with world.engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into events.workflow_events (event_seq, event_id, event_type, tenant_id,"
                " occurred_at, customer_id, job_id, payload, is_backfill, emitted_at)"
                " values (1, :e, 'job_completed', :t, :at, :c, :j, cast(:p as jsonb), false,"
                " now())"
            ),
            {
                "e": event_id,
                "t": world.tenant_id,
                "at": NOW,
                "c": job["customer_id"],
                "j": job["id"],
                "p": orjson.dumps(
                    {"customer": {"id": job["customer_id"], "name": "Pat Lewis"}, "job": {}}
                ).decode(),
            },
        )
    settings = world.context.settings
    sync_from_files(world.engine, settings)
    matched = match_events(world.engine, settings, after_seq=0, now=NOW)
    assert len(matched.instances) == 1
    return job["customer_id"], event_id, matched.instances[0]


def test_workflow_tools(make_world) -> None:
    world = make_world()
    customer_id, event_id, instance_id = _start_review_request(world)

    listed = world.ok("list_workflows")
    workflows = {w["name"]: w for w in listed["workflows"]}
    assert listed["count"] == 11 and workflows["review_request"]["enabled"] is True
    assert workflows["estimate_lost_agent"]["enabled"] is False
    assert world.ok("list_workflows", {"include_disabled": False})["count"] == 8
    assert workflows["review_request"]["trigger_event"] == "job_completed"
    assert workflows["review_request"]["instances"] == {"pending": 1}
    assert workflows["review_request"]["steps"][:2] == ["wait_2h", "sms_review"]

    by_customer = world.ok("workflow_status", {"customer_id": customer_id})
    assert [i["instance_id"] for i in by_customer["instances"]] == [instance_id]
    by_event = world.ok("workflow_status", {"event_id": event_id})["instances"][0]
    assert by_event["workflow"] == "review_request" and by_event["status"] == "pending"
    assert by_event["next_step"] == "wait_2h" and by_event["steps"] == []
    assert "give event_id" in world.error("workflow_status", {})

    paused = world.ok("pause_workflow", {"instance_id": instance_id})
    assert paused["paused"] is True and paused["changed"] is True
    assert world.ok("pause_workflow", {"instance_id": instance_id})["changed"] is False
    assert due_instances(world.engine, NOW) == []

    resumed = world.ok("resume_workflow", {"instance_id": instance_id})
    assert resumed["paused"] is False and resumed["changed"] is True
    assert [row["id"] for row in due_instances(world.engine, NOW)] == [instance_id]

    assert "does not exist" in world.error("pause_workflow", {"instance_id": 987654})
    with world.engine.begin() as conn:
        conn.execute(
            sa.text("update automation.workflow_instances set status = 'completed' where id = :i"),
            {"i": instance_id},
        )
    assert "completed" in world.error("resume_workflow", {"instance_id": instance_id})
