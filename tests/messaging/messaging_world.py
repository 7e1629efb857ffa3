"""Helpers of the messaging tests. A messaging world per test: a fresh database, the
simulators (Twilio and SendGrid among them) and the webhook receiver in a thread, wired to
each other like in production."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from perfect_catch.messaging.dispatch_result import DispatchResult
from perfect_catch.messaging.dispatcher import dispatch_due
from perfect_catch.messaging.outbox import OutboxEntry, enqueue
from perfect_catch.messaging.providers import Providers
from perfect_catch.settings import MessagingSettings, Settings, load_settings
from perfect_catch.simulators.sendgrid import SendGridState
from perfect_catch.simulators.server import SimulatorServer
from perfect_catch.simulators.twilio import TwilioState
from perfect_catch.webhooks.app import build_app
from perfect_catch.webhooks.server import WebhookServer

#: Noon in New York (ST_TIMEZONE's default) on a weekday: outside quiet hours.
NOON = datetime(2030, 6, 4, 16, 0, tzinfo=UTC)
CUSTOMER_PHONE = "(602) 555-0142"
CUSTOMER_E164 = "+16025550142"
TENANT = 1001


@dataclass
class Messaging:
    sim: SimulatorServer
    engine: sa.Engine
    settings: Settings
    receiver: WebhookServer
    providers: Providers

    @property
    def messaging(self) -> MessagingSettings:
        return self.settings.messaging

    @property
    def twilio(self) -> TwilioState:
        return self.sim.system("twilio")

    @property
    def sendgrid(self) -> SendGridState:
        return self.sim.system("sendgrid")

    def enqueue(self, key: str, **fields: Any) -> OutboxEntry:
        values: dict[str, Any] = {
            "instance_id": None,
            "step_key": None,
            "tenant_id": TENANT,
            "customer_id": None,
            "channel": "sms",
            "to": CUSTOMER_PHONE,
            "body": f"Hello from Perfect Catch ({key})",
        }
        values.update(fields)
        with self.engine.begin() as conn:
            return enqueue(conn, idempotency_key=key, **values)

    def dispatch(self, now: datetime = NOON, **kwargs: Any) -> DispatchResult:
        return dispatch_due(
            self.engine,
            self.settings,
            now=now,
            providers=self.providers,
            **kwargs,
        )

    def sms_to(self, number: str = CUSTOMER_E164) -> list[dict[str, Any]]:
        return [m for m in self.twilio.outbound() if m["to"] == number]

    def row(self, key: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return dict(
                conn.execute(
                    sa.text("select * from automation.outbox where idempotency_key = :k"),
                    {"k": key},
                )
                .mappings()
                .one()
            )

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.text(sql), params).mappings()]


@pytest.fixture
def world(engine: sa.Engine, simulator: SimulatorServer, database_url: str) -> Iterator[Messaging]:
    settings = load_settings(
        database_url=database_url,
        messaging_retry_base_seconds=60,
        messaging_claim_timeout_seconds=300,
    )
    with WebhookServer(build_app(settings, engine)) as receiver:
        settings.messaging.webhook_public_url = receiver.base_url
        simulator.system("twilio").inbound_url = f"{receiver.base_url}/twilio/inbound"
        simulator.system("sendgrid").event_webhook_url = f"{receiver.base_url}/sendgrid/events"
        yield Messaging(simulator, engine, settings, receiver, Providers(settings))
