"""What a running workflow step sees: its instance, the clients it may use and its variables.

`Services` gathers the outside world (ServiceTitan through a `ToolContext`, GoHighLevel, an HTTP
client for webhooks, Claude) behind factories, so a test can hand the engine simulator-backed
clients and nothing is built until a step needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
import sqlalchemy as sa

from perfect_catch.messaging import outbox, recipient_zone
from perfect_catch.messaging.recipient_zone import RecipientZone
from perfect_catch.settings import Channel, Settings, WorkflowSettings
from perfect_catch.tools.context import ToolContext
from perfect_catch.workflows import placeholders, templates
from perfect_catch.workflows.conditions import CheckScope
from perfect_catch.workflows.definitions import WorkflowDefinition

if TYPE_CHECKING:
    import anthropic

    from perfect_catch.connectors.gohighlevel import GoHighLevelClient


@dataclass(frozen=True)
class Instance:
    """One row of `automation.workflow_instances`, as the engine and steps use it."""

    id: int
    definition_name: str
    definition_version: str
    event_id: str
    event_type: str
    occurred_at: datetime | None
    tenant_id: int
    customer_id: int | None
    job_id: int | None
    estimate_id: int | None
    invoice_id: int | None
    appointment_id: int | None
    payload: dict[str, Any]
    status: str
    next_step: str | None
    next_run_at: datetime | None
    paused: bool
    transcript: dict[str, Any] | None

    @classmethod
    def load(cls, conn: sa.Connection, instance_id: int, *, lock: bool = False) -> Instance | None:
        row = (
            conn.execute(
                sa.text(
                    "select id, definition_name, definition_version, event_id, event_type,"
                    " occurred_at, tenant_id, customer_id, job_id, estimate_id, invoice_id,"
                    " appointment_id, payload, status, next_step, next_run_at, paused, transcript"
                    " from automation.workflow_instances where id = :id"
                    + (" for update" if lock else "")
                ),
                {"id": instance_id},
            )
            .mappings()
            .first()
        )
        return None if row is None else cls(**dict(row))

    def context(self) -> dict[str, Any]:
        """The event as conditions and templates see it: payload roots plus `event`."""
        return {
            **self.payload,
            "payload": self.payload,
            "event": {
                "event_id": self.event_id,
                "event_type": self.event_type,
                "occurred_at": self.occurred_at,
                "tenant_id": self.tenant_id,
                "customer_id": self.customer_id,
                "job_id": self.job_id,
                "estimate_id": self.estimate_id,
                "invoice_id": self.invoice_id,
                "appointment_id": self.appointment_id,
                "instance_id": self.id,
            },
        }


@dataclass
class Services:
    """Clients steps may use, built on first use and closed by `close()`."""

    engine: sa.Engine
    settings: Settings
    tool_context_factory: Callable[[], ToolContext] | None = None
    ghl_factory: Callable[[], GoHighLevelClient] | None = None
    http_factory: Callable[[], httpx.Client] | None = None
    anthropic_factory: Callable[[], anthropic.Anthropic | None] | None = None
    _built: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def config(self) -> WorkflowSettings:
        """The workflow engine's section of the settings."""
        return self.settings.workflows

    def tool_context(self) -> ToolContext:
        if "tools" not in self._built:
            if self.tool_context_factory is not None:
                self._built["tools"] = self.tool_context_factory()
            else:
                self._built["tools"] = ToolContext.from_settings(self.settings, self.engine)
        return self._built["tools"]

    def ghl(self) -> GoHighLevelClient:
        if "ghl" not in self._built:
            if self.ghl_factory is not None:
                self._built["ghl"] = self.ghl_factory()
            else:
                from perfect_catch.connectors.gohighlevel import GoHighLevelClient

                self._built["ghl"] = GoHighLevelClient.from_settings(self.settings)
        return self._built["ghl"]

    def http(self) -> httpx.Client:
        if "http" not in self._built:
            factory = self.http_factory or (
                lambda: httpx.Client(timeout=self.config.webhook_timeout_seconds)
            )
            self._built["http"] = factory()
        return self._built["http"]

    def anthropic(self) -> anthropic.Anthropic | None:
        """A Claude client, or None without ANTHROPIC_API_KEY (agent steps then fall back)."""
        if self.anthropic_factory is not None:
            return self.anthropic_factory()
        return self.tool_context().anthropic_client()

    def close(self) -> None:
        built, self._built = self._built, {}
        for client in built.values():
            client.close()


def recipient_zone_of(
    conn: sa.Connection, instance: Instance, workflow: WorkflowDefinition, settings: Settings
) -> RecipientZone:
    """The customer's zone, by `messaging.recipient_zone`'s rules: the workflow's `timezone`,
    the event's, the service location's, the phone's, else the tenant's default."""
    customer = instance.payload.get("customer") or {}
    phone = customer.get("phone")
    return recipient_zone.resolve(
        conn,
        tenant_id=instance.tenant_id,
        customer_id=instance.customer_id,
        job_id=instance.job_id,
        phone=str(phone) if phone else None,
        tenant_default=recipient_zone.tenant_timezone(
            settings, settings.messaging, instance.tenant_id
        ),
        workflow_timezone=workflow.timezone,
        caller_timezone=customer.get("timezone"),
    ) or RecipientZone(settings.st_timezone, "tenant")


def check_scope(instance: Instance, now: datetime, config: WorkflowSettings) -> CheckScope:
    return CheckScope(
        tenant_id=instance.tenant_id,
        customer_id=instance.customer_id,
        job_id=instance.job_id,
        estimate_id=instance.estimate_id,
        invoice_id=instance.invoice_id,
        appointment_id=instance.appointment_id,
        instance_id=instance.id,
        payload=instance.payload,
        now=now,
        config=config,
    )


@dataclass
class StepRun:
    """One execution of one step: the open connection, the instance and what it may use."""

    conn: sa.Connection
    instance: Instance
    workflow: WorkflowDefinition
    step: Any
    now: datetime
    services: Services
    _zone: RecipientZone | None = field(default=None, repr=False, compare=False)

    @property
    def idempotency_key(self) -> str:
        return f"{self.instance.id}:{self.step.key}"

    @property
    def recipient_zone(self) -> RecipientZone:
        """The customer's zone, resolved once per step run: the rendered times, the message's
        quiet hours and its daily cap all use it (it is stored on the outbox row)."""
        if self._zone is None:
            self._zone = recipient_zone_of(
                self.conn, self.instance, self.workflow, self.services.settings
            )
        return self._zone

    @property
    def timezone(self) -> str:
        return self.recipient_zone.name

    def variables(self, *sources: str) -> dict[str, Any]:
        """Render variables for templates `sources`: the event plus the placeholders they use."""
        names: set[str] = set()
        for source in sources:
            names |= templates.names_in(source)
        scope = placeholders.PlaceholderScope(
            conn=self.conn,
            config=self.services.config,
            tenant_id=self.instance.tenant_id,
            customer_id=self.instance.customer_id,
            job_id=self.instance.job_id,
            estimate_id=self.instance.estimate_id,
            appointment_id=self.instance.appointment_id,
            timezone=self.timezone,
            now=self.now,
        )
        return {
            **self.instance.context(),
            "timezone": self.timezone,
            **placeholders.resolve(names, scope),
        }

    def render(self, source: str, *, html: bool = False) -> str:
        return templates.render(source, self.variables(source), html=html)

    def address(self, channel: Channel) -> str | None:
        """The customer's phone (sms) or email (email) as the event carried it."""
        customer = self.instance.payload.get("customer") or {}
        value = customer.get("phone") if channel == "sms" else customer.get("email")
        return str(value) if value else None

    def queue(
        self,
        conn: sa.Connection,
        *,
        key: str,
        channel: Channel,
        to: str,
        body: str,
        subject: str | None = None,
        html: str | None = None,
        **metadata: Any,
    ) -> outbox.OutboxEntry:
        """Write one message of this instance to the outbox under `key`, in `conn`'s
        transaction; its metadata names the workflow and the event (and what `metadata` adds)."""
        return outbox.enqueue(
            conn,
            idempotency_key=key,
            instance_id=self.instance.id,
            step_key=self.step.key,
            tenant_id=self.instance.tenant_id,
            customer_id=self.instance.customer_id,
            channel=channel,
            to=to,
            body=body,
            subject=subject,
            html=html,
            timezone=self.recipient_zone,
            metadata={
                "workflow": self.workflow.name,
                "event_id": self.instance.event_id,
                **metadata,
            },
        )
