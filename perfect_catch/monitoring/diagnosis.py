"""Claude's diagnosis of an incident, kept beside the rules' one and never instead of it.

Claude gets the scrubbed error, the rules' verdict, the log tail and the scope's recent sync
history; it may call only read-only tools of the registry (their answers scrubbed too) and must
end by calling `submit_diagnosis`, whose input is validated before anything is stored. Any
failure here (no key, an API error, an invalid answer) leaves the rules' diagnosis alone.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from perfect_catch.monitoring.incidents import get_incident, store_claude
from perfect_catch.monitoring.scrub import Scrubber
from perfect_catch.settings import Settings
from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.errors import ToolFailure
from perfect_catch.tools.registry import all_tools

log = logging.getLogger(__name__)

SUBMIT = "submit_diagnosis"
MAX_TURNS = 4
SYSTEM = (
    "You diagnose failures of a data platform that syncs ServiceTitan, GoHighLevel and CallRail "
    "into PostgreSQL and sends customer messages. Read the incident, optionally look at the "
    "warehouse with the read-only tools, then call submit_diagnosis exactly once with the most "
    "likely root cause, the fix an operator should apply and your confidence (0 to 1)."
)


class ClaudeAnswer(BaseModel):
    """What Claude must submit; anything else is discarded."""

    model_config = ConfigDict(extra="forbid")

    diagnosis: str = Field(min_length=3, max_length=2000, description="The root cause.")
    suggested_fix: str = Field(min_length=3, max_length=2000, description="What to do.")
    confidence: float = Field(ge=0, le=1, description="How sure, 0 to 1.")


@dataclass(frozen=True)
class DiagnosisInput:
    """What Claude is shown: nothing here is unscrubbed."""

    incident: dict[str, Any]
    log_tail: str
    history: list[dict[str, Any]]


def recent_history(engine: sa.Engine, incident: dict[str, Any], limit: int = 10) -> list[dict]:
    """The scope's last syncs, newest first (outcome, records, error)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select entity, run_id, ok, records, rejected, error, finished_at"
                " from monitoring.sync_runs where source = :s"
                " and tenant_id is not distinct from :t"
                " order by finished_at desc limit :n"
            ),
            {"s": incident["source"], "t": incident["tenant_id"], "n": limit},
        ).mappings()
        return [{**dict(r), "finished_at": r["finished_at"].isoformat()} for r in rows]


def _prompt(data: DiagnosisInput) -> str:
    incident = data.incident
    fields = {
        key: incident.get(key)
        for key in (
            "kind",
            "source",
            "tenant_id",
            "entity",
            "entities",
            "occurrences",
            "last_error",
            "diagnosis",
            "suggested_fix",
        )
    }
    return (
        "Incident (the `diagnosis` is what the rules concluded):\n"
        f"{json.dumps(fields, default=str, indent=1)}\n\n"
        f"Log tail:\n{data.log_tail or '-'}\n\n"
        f"Recent syncs of this source and tenant:\n{json.dumps(data.history, default=str)}"
    )


def _tools() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    submit = {
        "name": SUBMIT,
        "description": "Submit the diagnosis of the incident (call once, at the end).",
        "input_schema": ClaudeAnswer.model_json_schema(),
    }
    readers = {spec.name: spec for spec in all_tools() if spec.read_only}
    offered = [submit] + [
        {"name": s.name, "description": s.description, "input_schema": s.input_schema()}
        for s in readers.values()
    ]
    return offered, readers


def ask_claude(
    settings: Settings,
    engine: sa.Engine,
    scrub: Scrubber,
    data: DiagnosisInput,
    client: Any | None = None,
) -> ClaudeAnswer | None:
    """Claude's validated answer about `data`, or None (no key, an error, no valid answer)."""
    key = settings.anthropic_api_key.get_secret_value()
    if client is None:
        if not key:
            return None
        import anthropic

        client = anthropic.Anthropic(
            api_key=key, base_url=settings.anthropic_base_url, max_retries=1, timeout=30.0
        )
    offered, readers = _tools()
    messages: list[dict[str, Any]] = [{"role": "user", "content": scrub.text(_prompt(data))}]
    context = ToolContext.from_settings(settings, engine)
    try:
        for _ in range(MAX_TURNS):
            reply = client.messages.create(
                model=settings.anthropic_model,
                max_tokens=1024,
                system=SYSTEM,
                tools=offered,
                messages=messages,
            )
            calls = [block for block in reply.content if block.type == "tool_use"]
            if not calls:
                return None
            messages.append(
                {"role": "assistant", "content": [b.model_dump() for b in reply.content]}
            )
            results = []
            for call in calls:
                if call.name == SUBMIT:
                    return _validated(call.input, scrub)
                results.append(_run_tool(readers, context, call, scrub))
            messages.append({"role": "user", "content": results})
    except Exception as error:  # any failure leaves the rules' diagnosis standing
        log.warning(
            "Claude diagnosis unavailable: %s", scrub.text(f"{type(error).__name__}: {error}")
        )
        return None
    finally:
        context.close()
    return None


def _validated(raw: Any, scrub: Scrubber) -> ClaudeAnswer | None:
    try:
        answer = ClaudeAnswer.model_validate(raw)
    except ValidationError as error:
        log.warning(
            "Claude's diagnosis was invalid and is ignored: %d problem(s)", error.error_count()
        )
        return None
    return ClaudeAnswer(
        diagnosis=scrub.text(answer.diagnosis),
        suggested_fix=scrub.text(answer.suggested_fix),
        confidence=answer.confidence,
    )


def _run_tool(readers: dict[str, Any], context: ToolContext, call: Any, scrub: Scrubber) -> dict:
    spec = readers.get(call.name)
    if spec is None:
        text, error = f"tool {call.name!r} is not available here (read-only tools only)", True
    else:
        try:
            text, error = json.dumps(spec.run(context, call.input), default=str)[:8000], False
        except ToolFailure as failure:
            text, error = str(failure), True
    return {
        "type": "tool_result",
        "tool_use_id": call.id,
        "content": scrub.text(text),
        "is_error": error,
    }


def diagnose_incident(
    settings: Settings,
    engine: sa.Engine,
    incident_id: int,
    log_tail: str = "",
    client: Any | None = None,
) -> ClaudeAnswer | None:
    """Ask Claude about incident `incident_id` and store a valid answer beside the rules'."""
    if not settings.monitoring.monitoring_claude_diagnosis:
        return None
    incident = get_incident(engine, incident_id)
    if incident is None:
        return None
    scrub = Scrubber.from_settings(settings)
    data = DiagnosisInput(incident, scrub.text(log_tail[-4000:]), recent_history(engine, incident))
    answer = ask_claude(settings, engine, scrub, data, client)
    if answer is not None:
        store_claude(engine, incident_id, answer.diagnosis, answer.suggested_fix, answer.confidence)
    return answer
