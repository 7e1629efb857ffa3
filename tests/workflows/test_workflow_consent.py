"""STOP wins over any workflow: a workflow without an opt-out condition still queues its text,
and the dispatcher suppresses it before it reaches the provider."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from workflow_support import E164, NOON, TENANT, make_flow

from perfect_catch.messaging.consent import record_consent
from perfect_catch.messaging.dispatcher import dispatch_due
from perfect_catch.messaging.providers import Message, Providers, SendOutcome


@dataclass
class RecordingProvider:
    """Accepts every message and remembers it."""

    name: str = "recording"
    sent: list[Message] = field(default_factory=list)

    def send(self, message: Message) -> SendOutcome:
        self.sent.append(message)
        return SendOutcome(self.name, f"rec-{len(self.sent)}", "sent")

    def find(self, message: Message, exclude: set[str]) -> SendOutcome | None:
        return None


def test_stop_then_new_event_nothing_reaches_the_provider(
    events_engine: sa.Engine, tmp_path: Path
) -> None:
    (tmp_path / "blunt.yaml").write_text(
        """
name: blunt_thanks
description: Thanks the customer, with no opt-out condition of its own.
trigger: {event: job_completed}
steps:
  - {key: sms, type: send_sms, body: "Thanks from {{ business_name }}!"}
"""
    )
    flow = make_flow(events_engine, tmp_path)
    try:
        flow.add_customer()
        with events_engine.begin() as conn:
            record_consent(
                conn,
                channel="sms",
                address=E164,
                opted_out=True,
                source="twilio_inbound",
                reason="STOP",
                tenant_id=TENANT,
            )
        flow.add_event("job_completed", occurred_at=NOON, job_id=8, payload={"job": {"id": 8}})
        flow.match(NOON)
        instance_id = flow.instances_of("blunt_thanks")[0]["id"]
        assert flow.run(instance_id, NOON).status == "completed"
        assert [m["status"] for m in flow.outbox()] == ["pending"]

        provider = RecordingProvider()
        providers = Providers(flow.settings, overrides={"sms": provider})
        result = dispatch_due(events_engine, flow.settings, now=NOON, providers=providers)
        assert result.suppressed == 1 and result.sent == 0
        assert provider.sent == []
        assert [m["status"] for m in flow.outbox()] == ["suppressed"]
    finally:
        flow.services.close()
