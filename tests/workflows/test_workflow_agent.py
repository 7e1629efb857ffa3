"""Agent steps against the simulated Anthropic API: the tool-use loop is bounded, its transcript
is stored, its only side effects are outbox rows, and without a key the template runs instead."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from workflow_support import NOON, Flow, make_flow

from perfect_catch.simulators.anthropic import AnthropicState
from perfect_catch.simulators.server import SimulatorServer
from perfect_catch.workflows.runtime import Services

WORKFLOW = """
name: agent_followup
description: Claude follows up on an estimate.
trigger: {event: estimate_created}
steps:
  - key: agent
    type: agent
    goal: "Follow up on {{ estimate.name }} for {{ customer.name }}. [sim-script:SCRIPT]"
    tools: [list_workflows, send_sms]
    max_turns: 3
    fallback:
      type: send_sms
      body: "Hi {{ customer.name | first_name }}, questions about your estimate?"
"""


@pytest.fixture
def agent_world(
    events_engine: sa.Engine, simulator: SimulatorServer, tmp_path: Path
) -> Iterator[tuple[Flow, AnthropicState]]:
    state: AnthropicState = simulator.system("anthropic")

    def make(script: str, with_key: bool = True) -> Flow:
        folder = tmp_path / script
        folder.mkdir()
        (folder / "agent.yaml").write_text(WORKFLOW.replace("SCRIPT", script))
        flow = make_flow(events_engine, folder)
        if with_key:
            flow.services = Services(events_engine, flow.settings)
        made.append(flow)
        return flow

    made: list[Flow] = []
    yield make, state
    for flow in made:
        flow.services.close()


def _start(flow: Flow) -> int:
    flow.add_customer()
    flow.add_estimate(7001)
    flow.estimate_created(7001, NOON)
    flow.match(NOON)
    return flow.instances_of("agent_followup")[0]["id"]


def test_scripted_agent_uses_tools_and_queues_through_the_outbox(agent_world) -> None:
    make, state = agent_world
    state.add_script(
        "followup",
        [
            [{"type": "tool_use", "name": "list_workflows", "input": {}}],
            [
                {"type": "text", "text": "Texting the customer."},
                {"type": "tool_use", "name": "create_job", "input": {"summary": "x"}},
                {"type": "tool_use", "name": "send_sms", "input": {"body": "Any questions?"}},
            ],
            [{"type": "text", "text": "Followed up by text."}],
        ],
    )
    flow = make("followup")
    instance_id = _start(flow)
    result = flow.run(instance_id, NOON)
    assert result.status == "completed", flow.instance(instance_id)["last_error"]

    messages = flow.outbox()
    assert [(m["idempotency_key"], m["body"]) for m in messages] == [
        (f"{instance_id}:agent:1", "Any questions?")
    ]
    run = flow.step_runs(instance_id)[0]
    assert run["status"] == "succeeded"
    assert run["result"]["stop_reason"] == "end_turn" and run["result"]["turns"] == 3
    assert run["result"]["final_text"] == "Followed up by text."

    transcript = flow.instance(instance_id)["transcript"]["agent"]
    assert [entry["role"] for entry in transcript][:3] == ["system", "user", "assistant"]
    refused = [
        block
        for entry in transcript
        if entry["role"] == "user" and isinstance(entry["content"], list)
        for block in entry["content"]
        if block.get("is_error")
    ]
    assert len(refused) == 1 and "create_job" in refused[0]["content"]
    # What the model was offered: the allow-list only, the goal rendered in the system prompt.
    offered = {tool["name"] for tool in state.requests[0]["tools"]}
    assert offered == {"list_workflows", "send_sms"}
    assert "Pool heater install" in state.requests[0]["system"]


def test_agent_loop_is_bounded_by_turns(agent_world) -> None:
    make, state = agent_world
    flow = make("loop")
    instance_id = _start(flow)
    flow.run(instance_id, NOON)
    run = flow.step_runs(instance_id)[0]
    assert run["result"]["stop_reason"] == "max_turns"
    assert run["result"]["turns"] == 3 and len(state.requests) == 3
    # The loop called list_workflows (first allowed tool) each turn: nothing was queued.
    assert flow.outbox() == []


def test_default_reply_calls_the_first_tool_then_ends(agent_world) -> None:
    make, state = agent_world
    flow = make("unscripted")
    with flow.engine.begin() as conn:
        conn.execute(
            sa.text(
                "update automation.workflow_definitions set definition = jsonb_set(definition,"
                " '{steps,0,tools}', '[\"send_sms\"]')"
            )
        )
    from perfect_catch.workflows import definitions

    definitions._PARSED.clear()
    instance_id = _start(flow)
    flow.run(instance_id, NOON)
    assert [m["idempotency_key"] for m in flow.outbox()] == [f"{instance_id}:agent:1"]
    assert flow.step_runs(instance_id)[0]["result"]["turns"] == 2
    # A repeated run repeats nothing.
    flow.run(instance_id, NOON)
    assert len(flow.outbox()) == 1 and len(state.requests) == 2


def test_without_a_key_the_template_fallback_runs(agent_world) -> None:
    make, state = agent_world
    flow = make("followup", with_key=False)
    instance_id = _start(flow)
    assert flow.run(instance_id, NOON).status == "completed"
    messages = flow.outbox()
    assert [m["idempotency_key"] for m in messages] == [f"{instance_id}:agent"]
    assert messages[0]["body"].startswith("Hi Pat, questions about your estimate?")
    assert flow.step_runs(instance_id)[0]["result"]["fallback"] is True
    assert state.requests == []
