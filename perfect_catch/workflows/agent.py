"""Agent steps: Claude pursues a goal with tool use, bounded, with every side effect queued.

The model gets the goal, the event and an allow-list of registry tools. Read-only tools run
through the registry as the MCP server runs them. Messages are the only side effect an agent may
cause, and they go to the outbox: `send_sms` / `send_email` here take only the text, the
recipient is always the event's customer, and each message gets the key
`{instance_id}:{step_key}:{n}`. Turns, tokens per call and tokens in all are bounded; the whole
exchange is returned as a transcript the engine stores on the instance.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from perfect_catch.settings import Channel
from perfect_catch.tools.errors import ToolFailure
from perfect_catch.tools.registry import call_tool, claude_tools, jsonable
from perfect_catch.workflows.definitions import MESSAGING_TOOLS, AgentStep
from perfect_catch.workflows.runtime import StepRun

if TYPE_CHECKING:
    import anthropic

MESSAGING_SCHEMAS: dict[str, dict[str, Any]] = {
    "send_sms": {
        "name": "send_sms",
        "description": "Queue a text message to this event's customer. It is sent by the "
        "dispatcher, which honours opt-outs and quiet hours. Keep it under 320 characters.",
        "input_schema": {
            "type": "object",
            "properties": {"body": {"type": "string", "minLength": 1, "maxLength": 1600}},
            "required": ["body"],
        },
    },
    "send_email": {
        "name": "send_email",
        "description": "Queue an email to this event's customer (sent by the dispatcher).",
        "input_schema": {
            "type": "object",
            "properties": {
                "subject": {"type": "string", "minLength": 1, "maxLength": 300},
                "body": {"type": "string", "minLength": 1},
            },
            "required": ["subject", "body"],
        },
    },
}


@dataclass
class AgentResult:
    """How the loop ended and what happened on the way."""

    stop_reason: str
    turns: int
    tokens: int
    messages_queued: list[str] = field(default_factory=list)
    tool_calls: int = 0
    final_text: str = ""
    transcript: list[dict[str, Any]] = field(default_factory=list)


def _system_prompt(run: StepRun) -> str:
    config = run.services.config
    return (
        f"You act for {config.business_name}, a home-services company, inside the automated "
        f"workflow {run.workflow.name!r}. Pursue the goal with the tools you are given and stop "
        "when it is done. Anything you send the customer is queued and checked for consent and "
        f"quiet hours before it leaves. The business phone is {config.business_phone}.\n\n"
        f"Goal: {run.render(run.step.goal)}"
    )


def _event_message(run: StepRun) -> str:
    event = jsonable(run.instance.context())
    event.pop("payload", None)
    return "The event this workflow runs for:\n" + json.dumps(event, indent=1, default=str)


def _queue(run: StepRun, name: str, arguments: dict[str, Any], number: int) -> dict[str, Any]:
    """A messaging tool call: one outbox row under the agent's n-th message key."""
    channel: Channel = "sms" if name == "send_sms" else "email"
    to = run.address(channel)
    body = str(arguments.get("body") or "").strip()
    subject = str(arguments.get("subject") or "").strip() or None
    if not to:
        raise ToolFailure(f"the customer has no {channel} address; nothing was queued")
    if not body or (channel == "email" and not subject):
        raise ToolFailure("body (and, for email, subject) must not be empty")
    key = f"{run.instance.id}:{run.step.key}:{number}"
    with run.services.engine.begin() as conn:
        entry = run.queue(
            conn, key=key, channel=channel, to=to, body=body, subject=subject, agent=True
        )
    return {"queued": True, "idempotency_key": key, "status": entry.status}


def run_agent(run: StepRun, client: anthropic.Anthropic) -> AgentResult:
    """Run the tool-use loop of `run.step` (an `AgentStep`) with `client`."""
    step: AgentStep = run.step
    config = run.services.config
    allowed = list(dict.fromkeys(step.tools))
    registry_tools = [name for name in allowed if name not in MESSAGING_TOOLS]
    tools = claude_tools(registry_tools) + [
        MESSAGING_SCHEMAS[name] for name in allowed if name in MESSAGING_TOOLS
    ]
    system = _system_prompt(run)
    messages: list[dict[str, Any]] = [{"role": "user", "content": _event_message(run)}]
    result = AgentResult(stop_reason="max_turns", turns=0, tokens=0)
    result.transcript.append({"role": "system", "content": system})
    result.transcript.append(messages[0])
    max_turns = step.max_turns or config.agent_max_turns
    while result.turns < max_turns:
        if result.tokens >= config.agent_max_total_tokens:
            result.stop_reason = "token_budget"
            break
        response = client.messages.create(
            model=run.services.settings.anthropic_model,
            max_tokens=config.agent_max_tokens,
            system=system,
            tools=tools,  # type: ignore[arg-type]
            messages=messages,  # type: ignore[arg-type]
        )
        result.turns += 1
        result.tokens += response.usage.input_tokens + response.usage.output_tokens
        content = [block.model_dump(exclude_none=True) for block in response.content]
        messages.append({"role": "assistant", "content": content})
        result.transcript.append(
            {"role": "assistant", "content": content, "stop_reason": response.stop_reason}
        )
        texts = [b["text"] for b in content if b.get("type") == "text"]
        if texts:
            result.final_text = texts[-1]
        uses = [b for b in content if b.get("type") == "tool_use"]
        if response.stop_reason != "tool_use" or not uses:
            result.stop_reason = (
                "end_turn" if response.stop_reason != "max_tokens" else "max_tokens"
            )
            break
        answers = [_answer(run, use, allowed, result) for use in uses]
        messages.append({"role": "user", "content": answers})
        result.transcript.append({"role": "user", "content": answers})
    return result


def _answer(
    run: StepRun, use: dict[str, Any], allowed: list[str], result: AgentResult
) -> dict[str, Any]:
    """The tool_result block for one tool_use block."""
    name, arguments = use.get("name", ""), use.get("input") or {}
    result.tool_calls += 1
    try:
        if name not in allowed:
            raise ToolFailure(f"tool {name!r} is not allowed here; allowed: {', '.join(allowed)}")
        if name in MESSAGING_TOOLS:
            output = _queue(run, name, arguments, len(result.messages_queued) + 1)
            result.messages_queued.append(output["idempotency_key"])
        else:
            output = call_tool(run.services.tool_context(), name, arguments)
        return {
            "type": "tool_result",
            "tool_use_id": use["id"],
            "content": json.dumps(output, default=str)[:20_000],
        }
    except ToolFailure as error:
        return {
            "type": "tool_result",
            "tool_use_id": use["id"],
            "content": str(error),
            "is_error": True,
        }
