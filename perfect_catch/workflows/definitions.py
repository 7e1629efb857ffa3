"""Workflow definitions: the YAML schema, its validation and its mirror in the database.

A workflow is one YAML file in `workflows/library/`: a trigger (event type plus conditions),
conditions re-checked before every step, and a list of keyed steps. Loading validates all of it
up front (schema, condition checks, every template's names, agent tool allow-lists) and names the
file, the step and the field of anything wrong, so a bad edit fails at load and never at send.

The files are mirrored into `automation.workflow_definitions` with a content hash as version;
`enabled` lives only in the table, so an operator can switch a workflow off without a deploy.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
import sqlalchemy as sa
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from perfect_catch.warehouse.event_types import EventType
from perfect_catch.workflows import conditions as cond
from perfect_catch.workflows import placeholders, templates

#: Registry tools that write through the outbox; any other tool an agent uses must be read-only.
MESSAGING_TOOLS = frozenset({"send_sms", "send_email"})

_DURATION = re.compile(
    r"^(?P<sign>[-+])?(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$"
)


class WorkflowDefinitionError(ValueError):
    """A workflow file is invalid; the message names the file, the step and the field."""


def parse_duration(value: Any) -> timedelta:
    """'2h', '2d', '1d12h', '-24h', '90s' or a number of seconds as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    text = str(value).strip().replace(" ", "")
    match = _DURATION.match(text)
    if not text or match is None or not any(match.group(k) for k in "dhms"):
        raise ValueError(f"{value!r} is not a duration like 2h, 2d, 1d12h, 30m or -24h")
    delta = timedelta(
        days=int(match["d"] or 0),
        hours=int(match["h"] or 0),
        minutes=int(match["m"] or 0),
        seconds=int(match["s"] or 0),
    )
    return -delta if match["sign"] == "-" else delta


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class StepBase(BaseModel):
    """What every step has: a key unique in its workflow and an optional `when` condition
    (false: the step is skipped and the workflow goes on)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)
    description: str | None = None
    when: cond.Condition | None = None


class SendSmsStep(StepBase):
    """Queue a text message to the customer's phone (through the outbox)."""

    type: Literal["send_sms"]
    body: str = Field(min_length=1, max_length=1600)


class SendEmailStep(StepBase):
    """Queue an email to the customer (through the outbox)."""

    type: Literal["send_email"]
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1)
    html: str | None = None


class WaitStep(StepBase):
    """Pause until `from` + `offset`, optionally moved to the next `at_time` (customer's local
    time of day). `from`: now, event (when the event occurred) or a payload timestamp path."""

    type: Literal["wait"]
    from_: str = Field("now", alias="from", pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
    offset: Duration = timedelta(0)
    at_time: time | None = None

    @field_validator("at_time", mode="before")
    @classmethod
    def _time(cls, value: Any) -> Any:
        if isinstance(value, int):
            # YAML 1.1 reads an unquoted 10:00 as sexagesimal 600.
            return time(value // 60, value % 60)
        return value


class GhlUpdateStep(StepBase):
    """Push the event's estimate / job / customer / appointment to GoHighLevel: its opportunity
    moves to the stage ServiceTitan's state implies (JOB_SOLD, install pipeline, ...)."""

    type: Literal["ghl_update"]
    entity: Literal["estimate", "job", "customer", "appointment"]


class ServiceTitanStep(StepBase):
    """An allow-listed ServiceTitan write: a note (job or customer), a task or a customer tag."""

    type: Literal["servicetitan"]
    action: Literal["note", "task", "tag"]
    target: Literal["job", "customer"] = "job"
    text: str | None = None
    pin_to_top: bool = False
    tag_type_id: int | None = None
    task: dict[str, int | str | bool] | None = None

    @model_validator(mode="after")
    def _complete(self) -> ServiceTitanStep:
        if self.action in ("note", "task") and not self.text:
            raise ValueError(f"a {self.action} needs `text`")
        if self.action == "tag" and (self.tag_type_id is None or self.target != "customer"):
            raise ValueError("a tag needs `tag_type_id` and `target: customer`")
        if self.action == "task" and not self.task:
            raise ValueError("a task needs `task` (ServiceTitan task fields)")
        return self


class WebhookStep(StepBase):
    """POST the event (or a templated body) to an outside URL, e.g. n8n or Zapier, with an
    `Idempotency-Key` header so the receiver can drop a repeat."""

    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://\S+$")
    body: dict[str, Any] | None = None


class FallbackSms(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["send_sms"]
    body: str = Field(min_length=1, max_length=1600)


class FallbackEmail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["send_email"]
    subject: str = Field(min_length=1)
    body: str = Field(min_length=1)
    html: str | None = None


class AgentStep(StepBase):
    """Give Claude a goal, the event and a tool allow-list; without an API key the `fallback`
    template action runs instead (or the step is skipped)."""

    type: Literal["agent"]
    goal: str = Field(min_length=1)
    tools: list[str] = Field(min_length=1)
    fallback: Annotated[FallbackSms | FallbackEmail, Field(discriminator="type")] | None = None
    max_turns: int | None = Field(None, ge=1, le=50)


Step = Annotated[
    SendSmsStep
    | SendEmailStep
    | WaitStep
    | GhlUpdateStep
    | ServiceTitanStep
    | WebhookStep
    | AgentStep,
    Field(discriminator="type"),
]


class Trigger(BaseModel):
    """Which events start the workflow: an event type and conditions on it."""

    model_config = ConfigDict(extra="forbid")

    event: EventType
    conditions: cond.Condition | None = None
    include_backfill: bool = False


class WorkflowDefinition(BaseModel):
    """One workflow, as written in its YAML file."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=80)
    description: str = Field(min_length=1)
    enabled: bool = True
    trigger: Trigger
    conditions: cond.Condition | None = None
    max_messages: int | None = Field(None, ge=1)
    timezone: str | None = None
    steps: list[Step] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown timezone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _unique_keys(self) -> WorkflowDefinition:
        seen: set[str] = set()
        for step in self.steps:
            if step.key in seen:
                raise ValueError(f"step key {step.key!r} is used twice")
            seen.add(step.key)
        return self

    def step(self, key: str | None) -> Step | None:
        return next((s for s in self.steps if s.key == key), None)

    def step_after(self, key: str) -> Step | None:
        keys = [s.key for s in self.steps]
        index = keys.index(key) + 1
        return self.steps[index] if index < len(self.steps) else None


@dataclass(frozen=True)
class LoadedWorkflow:
    """A validated definition with where it came from and its content hash."""

    definition: WorkflowDefinition
    raw: dict[str, Any]
    version: str
    source: str

    @property
    def name(self) -> str:
        return self.definition.name


def _where(raw: Any, loc: tuple[Any, ...]) -> tuple[str | None, str]:
    """(step key, field path) of a pydantic error location in the raw document."""
    parts = list(loc)
    if len(parts) >= 2 and parts[0] == "steps" and isinstance(parts[1], int):
        steps = raw.get("steps") if isinstance(raw, dict) else None
        step = steps[parts[1]] if isinstance(steps, list) and parts[1] < len(steps) else None
        key = step.get("key") if isinstance(step, dict) else None
        rest = [str(p) for p in parts[2:] if not (isinstance(p, str) and p in _STEP_TYPES)]
        return (str(key) if key else f"#{parts[1] + 1}"), ".".join(rest) or "step"
    return None, ".".join(str(p) for p in parts) or "workflow"


_STEP_TYPES = {"send_sms", "send_email", "wait", "ghl_update", "servicetitan", "webhook", "agent"}


def _error(source: str, name: str | None, step: str | None, field: str, message: str) -> str:
    parts = [f"{source}: workflow {name or '?'!r}"]
    if step is not None:
        parts.append(f"step {step!r}")
    parts.append(f"field {field!r}")
    return ", ".join(parts) + f": {message}"


def _template_fields(step: Any) -> list[tuple[str, str]]:
    """(field, template) pairs of a step, the fallback's included."""
    found: list[tuple[str, str]] = []
    for field in ("body", "subject", "html", "text", "goal"):
        value = getattr(step, field, None)
        if isinstance(value, str):
            found.append((field, value))
    if isinstance(step, WebhookStep) and step.body:
        for name, value in step.body.items():
            if isinstance(value, str):
                found.append((f"body.{name}", value))
    fallback = getattr(step, "fallback", None)
    if fallback is not None:
        for field in ("body", "subject", "html"):
            value = getattr(fallback, field, None)
            if isinstance(value, str):
                found.append((f"fallback.{field}", value))
    return found


def _semantic_problems(definition: WorkflowDefinition) -> list[tuple[str | None, str, str]]:
    """(step, field, message) of everything the schema alone cannot see."""
    found: list[tuple[str | None, str, str]] = []
    for field, condition in (
        ("trigger.conditions", definition.trigger.conditions),
        ("conditions", definition.conditions),
    ):
        if condition is not None:
            found += [(None, field, p) for p in cond.problems(condition)]
    known = placeholders.known_names(definition.trigger.event)
    for step in definition.steps:
        if step.when is not None:
            found += [(step.key, "when", p) for p in cond.problems(step.when)]
        for field, source in _template_fields(step):
            try:
                unknown = templates.unknown_names(source, known)
            except templates.TemplateError as error:
                found.append((step.key, field, str(error)))
                continue
            for name in unknown:
                found.append(
                    (
                        step.key,
                        field,
                        f"template names unknown placeholder {name!r}; a "
                        f"{definition.trigger.event} workflow knows: {', '.join(sorted(known))}",
                    )
                )
        if isinstance(step, AgentStep):
            found += [(step.key, "tools", p) for p in _tool_problems(step.tools)]
    return found


def _tool_problems(names: list[str]) -> list[str]:
    from perfect_catch.tools.registry import all_tools

    specs = {spec.name: spec for spec in all_tools()}
    found = []
    for name in names:
        spec = specs.get(name)
        if spec is None and name not in MESSAGING_TOOLS:
            found.append(f"unknown tool {name!r}")
        elif spec is not None and not spec.read_only and name not in MESSAGING_TOOLS:
            found.append(
                f"tool {name!r} writes outside the outbox; agent steps may use read-only tools "
                f"and {', '.join(sorted(MESSAGING_TOOLS))}"
            )
    return found


def parse_definition(raw: Any, source: str) -> WorkflowDefinition:
    """Validate one workflow document; any problem raises `WorkflowDefinitionError`."""
    name = raw.get("name") if isinstance(raw, dict) else None
    if not isinstance(raw, dict):
        raise WorkflowDefinitionError(
            _error(source, None, None, "workflow", "the file must hold one YAML mapping")
        )
    try:
        definition = WorkflowDefinition.model_validate(raw)
    except ValidationError as error:
        messages = []
        for item in error.errors():
            step, field = _where(raw, tuple(item["loc"]))
            messages.append(_error(source, name, step, field, item["msg"]))
        raise WorkflowDefinitionError("; ".join(messages)) from None
    problems = _semantic_problems(definition)
    if problems:
        raise WorkflowDefinitionError(
            "; ".join(_error(source, definition.name, s, f, m) for s, f, m in problems)
        )
    return definition


def load_file(path: Path) -> LoadedWorkflow:
    """Read, validate and hash one workflow file."""
    content = path.read_bytes()
    try:
        raw = yaml.safe_load(content)
    except yaml.YAMLError as error:
        raise WorkflowDefinitionError(f"{path.name}: not valid YAML: {error}") from None
    definition = parse_definition(raw, path.name)
    return LoadedWorkflow(
        definition=definition,
        raw=raw,
        version=hashlib.sha256(content).hexdigest(),
        source=path.name,
    )


def load_definitions(folder: Path) -> list[LoadedWorkflow]:
    """Every `*.yaml` workflow in `folder`, validated; names must be unique.

    A missing folder, or one without a definition, is refused rather than read as "no
    workflows": mirrored into the table, that would mark every workflow removed, silently (a
    WORKFLOWS_DIR copied from another machine, or a volume not mounted)."""
    if not folder.is_dir():
        raise WorkflowDefinitionError(
            f"WORKFLOWS_DIR {folder} does not exist or is not a folder; unset WORKFLOWS_DIR to "
            "use the workflows shipped with the package"
        )
    paths = sorted(folder.glob("*.yaml"))
    if not paths:
        raise WorkflowDefinitionError(
            f"WORKFLOWS_DIR {folder} holds no workflow definition (*.yaml); refusing to treat "
            "that as every workflow deleted (unset WORKFLOWS_DIR to use the shipped ones)"
        )
    loaded = [load_file(path) for path in paths]
    by_name: dict[str, str] = {}
    for item in loaded:
        if item.name in by_name:
            raise WorkflowDefinitionError(
                f"{item.source}: workflow {item.name!r} is also defined in {by_name[item.name]}"
            )
        by_name[item.name] = item.source
    return loaded


# --- the database mirror ---------------------------------------------------------------------


@dataclass(frozen=True)
class StoredWorkflow:
    """A definition as recorded in the database, with its switch."""

    name: str
    version: str
    enabled: bool
    definition: WorkflowDefinition


class WorkflowNotFoundError(LookupError):
    """No workflow of that name is recorded."""


def sync_definitions(engine: sa.Engine, loaded: list[LoadedWorkflow]) -> dict[str, int]:
    """Mirror `loaded` into the table: new ones inserted (with the file's `enabled`), changed
    ones updated (their switch kept), missing ones marked removed. Returns counts."""
    counts = {"inserted": 0, "updated": 0, "unchanged": 0, "removed": 0}
    with engine.begin() as conn:
        current = dict(
            conn.execute(
                sa.text(
                    "select name, version || ':' || (removed_at is null)::text"
                    " from automation.workflow_definitions"
                )
            ).all()
        )
        for item in loaded:
            state = current.get(item.name)
            if state == f"{item.version}:true":
                counts["unchanged"] += 1
                continue
            conn.execute(
                sa.text(
                    "insert into automation.workflow_definitions (name, version, event_type,"
                    " description, definition, source_path, enabled) values (:name, :version,"
                    " :event, :description, cast(:definition as jsonb), :source, :enabled)"
                    " on conflict (name) do update set version = excluded.version,"
                    " event_type = excluded.event_type, description = excluded.description,"
                    " definition = excluded.definition, source_path = excluded.source_path,"
                    " removed_at = null, updated_at = now()"
                ),
                {
                    "name": item.name,
                    "version": item.version,
                    "event": item.definition.trigger.event,
                    "description": item.definition.description,
                    "definition": orjson.dumps(item.raw, default=str).decode(),
                    "source": item.source,
                    "enabled": item.definition.enabled,
                },
            )
            counts["inserted" if state is None else "updated"] += 1
        gone = sorted(set(current) - {item.name for item in loaded})
        if gone:
            result = conn.execute(
                sa.text(
                    "update automation.workflow_definitions set removed_at = now(),"
                    " updated_at = now() where name = any(:names) and removed_at is null"
                ),
                {"names": gone},
            )
            counts["removed"] = result.rowcount
    return counts


def set_enabled(engine: sa.Engine, name: str, enabled: bool) -> None:
    """Switch a workflow on or off at run time (the sensors and the engine honour it)."""
    with engine.begin() as conn:
        result = conn.execute(
            sa.text(
                "update automation.workflow_definitions set enabled = :enabled,"
                " updated_at = now() where name = :name"
            ),
            {"name": name, "enabled": enabled},
        )
        if not result.rowcount:
            known = conn.execute(
                sa.text("select name from automation.workflow_definitions order by name")
            ).scalars()
            raise WorkflowNotFoundError(
                f"no workflow named {name!r}; known workflows: {', '.join(known) or 'none'}"
            )


_PARSED: dict[tuple[str, str], WorkflowDefinition] = {}


def _stored(name: str, version: str, enabled: bool, raw: dict[str, Any]) -> StoredWorkflow:
    definition = _PARSED.get((name, version))
    if definition is None:
        definition = WorkflowDefinition.model_validate(raw)
        _PARSED[(name, version)] = definition
    return StoredWorkflow(name, version, enabled, definition)


def stored_workflows(
    conn: sa.Connection, *, event_type: str | None = None, enabled_only: bool = True
) -> list[StoredWorkflow]:
    """Recorded, not removed workflows (enabled ones by default), optionally of one event."""
    rows = conn.execute(
        sa.text(
            "select name, version, enabled, definition from automation.workflow_definitions"
            " where removed_at is null and (enabled or not :enabled_only)"
            " and (cast(:event as text) is null or event_type = :event) order by name"
        ),
        {"enabled_only": enabled_only, "event": event_type},
    ).all()
    return [_stored(r.name, r.version, r.enabled, r.definition) for r in rows]


def stored_workflow(conn: sa.Connection, name: str) -> StoredWorkflow | None:
    """One recorded workflow, enabled or not (None when removed or unknown)."""
    row = conn.execute(
        sa.text(
            "select name, version, enabled, definition from automation.workflow_definitions"
            " where name = :name and removed_at is null"
        ),
        {"name": name},
    ).first()
    return None if row is None else _stored(row.name, row.version, row.enabled, row.definition)
