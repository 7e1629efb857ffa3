"""Steps that reach outside: webhooks carry one idempotency key across retries, ServiceTitan
writes are allow-listed and never repeated after an interruption, GHL pushes are wired."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from workflow_support import NOON, make_flow

from perfect_catch.integrations import ghl_pusher
from perfect_catch.integrations.ghl_push_outcome import PushOutcome
from perfect_catch.settings import load_settings
from perfect_catch.simulators.server import SimulatorServer
from perfect_catch.tools.context import ToolContext
from perfect_catch.workflows.runtime import Services


def _folder(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "wf"
    folder.mkdir()
    (folder / "flow.yaml").write_text(text)
    return folder


class _Receiver(BaseHTTPRequestHandler):
    """An outside endpoint (an n8n or Zapier hook) on loopback: fails once, then accepts."""

    seen: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).seen.append((dict(self.headers), body))
        self.send_response(503 if len(type(self).seen) == 1 else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def webhook_target():
    _Receiver.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhook/jobs", _Receiver.seen
    server.shutdown()
    server.server_close()


def test_webhook_retries_with_the_same_idempotency_key(
    events_engine: sa.Engine, tmp_path: Path, webhook_target
) -> None:
    url, seen = webhook_target
    folder = _folder(
        tmp_path,
        f"""
name: to_n8n
description: Hands new jobs to n8n.
trigger: {{event: job_created}}
steps:
  - {{key: hook, type: webhook, url: "{url}"}}
""",
    )
    flow = make_flow(events_engine, folder)
    try:
        flow.add_event("job_created", occurred_at=NOON, job_id=42, payload={"job": {"id": 42}})
        flow.match(NOON)
        instance_id = flow.instances_of("to_n8n")[0]["id"]
        first = flow.run(instance_id, NOON)
        assert first.status == "waiting" and first.next_run_at > NOON
        assert flow.step_runs(instance_id)[0]["status"] == "failed"
        second = flow.run(instance_id, first.next_run_at)
        assert second.status == "completed"
        run = flow.step_runs(instance_id)[0]
        assert run["status"] == "succeeded" and run["attempt"] == 2
        keys = {headers["Idempotency-Key"] for headers, _ in seen}
        assert keys == {f"{instance_id}:hook"} and len(seen) == 2
        body = json.loads(seen[1][1])
        assert body["workflow"] == "to_n8n" and body["event"]["job_id"] == 42
    finally:
        flow.services.close()


@pytest.fixture
def st_flow(events_engine: sa.Engine, simulator: SimulatorServer, tmp_path: Path):
    folder = _folder(
        tmp_path,
        """
name: note_on_job
description: Notes on the job that the review request went out.
trigger: {event: job_completed}
steps:
  - key: note
    type: servicetitan
    action: note
    target: job
    text: "Review request queued for {{ customer.name }}."
""",
    )
    flow = make_flow(events_engine, folder)
    settings = load_settings(database_url=flow.settings.database_url, workflows_dir=folder)
    flow.services = Services(
        events_engine,
        settings,
        tool_context_factory=lambda: ToolContext.from_settings(settings, events_engine),
    )
    state = simulator.system("servicetitan")
    tenant_id = state.tenant_ids[0]
    store = state.tenants[tenant_id]
    job_id = next(iter(store.records("jobs")))["id"]
    yield flow, store, tenant_id, job_id
    flow.services.close()


def test_servicetitan_note_is_written_once(st_flow) -> None:
    flow, store, tenant_id, job_id = st_flow
    flow.add_event("job_completed", occurred_at=NOON, tenant_id=tenant_id, job_id=job_id)
    flow.match(NOON)
    instance_id = flow.instances_of("note_on_job")[0]["id"]
    assert flow.run(instance_id, NOON).status == "completed"
    notes = store.notes[("jobs", job_id)]
    assert [n["text"] for n in notes] == ["Review request queued for Pat Lewis."]
    flow.run(instance_id, NOON)
    assert len(store.notes[("jobs", job_id)]) == 1


def test_interrupted_servicetitan_write_is_not_repeated(st_flow) -> None:
    flow, store, tenant_id, job_id = st_flow
    flow.add_event("job_completed", occurred_at=NOON, tenant_id=tenant_id, job_id=job_id)
    flow.match(NOON)
    instance_id = flow.instances_of("note_on_job")[0]["id"]
    # A run claimed the step and died before recording what ServiceTitan answered.
    with flow.engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into automation.workflow_step_runs (instance_id, step_key, step_type,"
                " status) values (:i, 'note', 'servicetitan', 'running')"
            ),
            {"i": instance_id},
        )
    result = flow.run(instance_id, NOON)
    assert result.status == "failed"
    assert "not repeated" in flow.instance(instance_id)["last_error"]
    assert store.notes.get(("jobs", job_id), []) == []


def test_ghl_update_pushes_the_event_entity(
    events_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, int, str]] = []

    def push(engine_, client, tenant_id, estimate_id, **kw):
        calls.append((tenant_id, estimate_id, kw["run_id"]))
        outcome = "failed" if len(calls) == 1 else "updated"
        return PushOutcome("estimate", estimate_id, outcome, "opp-1", "busy")

    monkeypatch.setattr(ghl_pusher, "push_estimate", push)
    flow = make_flow(events_engine)
    flow.services.ghl_factory = lambda: httpx.Client()
    try:
        flow.add_event(
            "estimate_approved",
            occurred_at=NOON,
            estimate_id=66,
            payload={"estimate": {"id": 66, "status": "Sold"}},
        )
        flow.match(NOON)
        instance_id = flow.instances_of("estimate_sold_ghl")[0]["id"]
        first = flow.run(instance_id, NOON)
        assert first.status == "waiting"  # a failed push is retried
        assert flow.run(instance_id, first.next_run_at).status == "completed"
        assert calls[-1][1] == 66 and calls[-1][2] == f"workflow:{instance_id}:ghl_job_sold"
        assert flow.step_runs(instance_id)[0]["result"]["outcome"] == "updated"
    finally:
        flow.services.close()
