"""Helpers of the workflow tests: a warehouse with hand-made ST rows and events, and the
engine's services wired to it.

The events go into `events.workflow_events` as dbt built it (the `events_engine` fixture clones
a template where dbt built it once per session), so they carry exactly dbt's columns."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from perfect_catch.settings import Settings, WorkflowSettings, load_settings
from perfect_catch.workflows import events
from perfect_catch.workflows.matching import MatchResult, match_events
from perfect_catch.workflows.passes import sync_from_files
from perfect_catch.workflows.running import InstanceResult, run_instance
from perfect_catch.workflows.runtime import Services

TENANT = 1001
CUSTOMER = 501
PHONE = "(602) 555-0142"
E164 = "+16025550142"
EMAIL = "pat.lewis@example.com"
#: Noon in New York (ST_TIMEZONE's default) on a Tuesday.
NOON = datetime(2030, 6, 4, 16, 0, tzinfo=UTC)


def _raw_insert(conn: sa.Connection, table: str, values: dict[str, Any]) -> None:
    values = {**values, "raw": orjson.dumps({"id": values["id"]}).decode()}
    columns = ", ".join(values)
    marks = ", ".join(f"cast(:{k} as jsonb)" if k == "raw" else f":{k}" for k in values)
    conn.execute(
        sa.text(
            f"insert into servicetitan.{table} ({columns}, modified_on, synced_at)"
            f" values ({marks}, now(), now())"
        ),
        values,
    )


@dataclass
class Flow:
    """One test's warehouse, settings and engine services."""

    engine: sa.Engine
    settings: Settings
    services: Services
    _seq: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def config(self) -> WorkflowSettings:
        return self.settings.workflows

    # --- ServiceTitan state --------------------------------------------------------------------

    def add_customer(self, customer_id: int = CUSTOMER, name: str = "Pat Lewis") -> None:
        with self.engine.begin() as conn:
            _raw_insert(
                conn,
                "st_customers",
                {"tenant_id": TENANT, "id": customer_id, "name": name, "active": True},
            )

    def add_estimate(
        self, estimate_id: int, status: str = "Open", subtotal: float = 1500.0
    ) -> None:
        with self.engine.begin() as conn:
            _raw_insert(
                conn,
                "st_estimates",
                {
                    "tenant_id": TENANT,
                    "id": estimate_id,
                    "customer_id": CUSTOMER,
                    "name": "Pool heater install",
                    "status": status,
                    "subtotal": subtotal,
                    "active": True,
                },
            )

    def set_estimate_status(self, estimate_id: int, status: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "update servicetitan.st_estimates set status = :s"
                    " where tenant_id = :t and id = :e"
                ),
                {"s": status, "t": TENANT, "e": estimate_id},
            )

    def add_appointment(self, appointment_id: int, start: datetime) -> None:
        with self.engine.begin() as conn:
            _raw_insert(
                conn,
                "st_appointments",
                {
                    "tenant_id": TENANT,
                    "id": appointment_id,
                    "customer_id": CUSTOMER,
                    "status": "Scheduled",
                    "start_on": start,
                    "end_on": start + timedelta(hours=2),
                },
            )

    def add_invoice(self, invoice_id: int, balance: float) -> None:
        with self.engine.begin() as conn:
            _raw_insert(
                conn,
                "st_invoices",
                {
                    "tenant_id": TENANT,
                    "id": invoice_id,
                    "customer_id": CUSTOMER,
                    "reference_number": f"INV-{invoice_id}",
                    "total": balance,
                    "balance": balance,
                },
            )

    def add_payment(self, payment_id: int, invoice_id: int, amount: float) -> None:
        """A payment applied to an invoice, as ServiceTitan's payments feed delivers it: the
        invoice's own `balance` is left as it was (that feed lags)."""
        applied = [{"appliedTo": invoice_id, "appliedId": payment_id, "appliedAmount": amount}]
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "insert into servicetitan.st_payments (tenant_id, id, customer_id, total,"
                    " active, raw, modified_on, synced_at) values (:t, :id, :c, :amount, true,"
                    " cast(:raw as jsonb), now(), now())"
                ),
                {
                    "t": TENANT,
                    "id": payment_id,
                    "c": CUSTOMER,
                    "amount": amount,
                    "raw": orjson.dumps({"id": payment_id, "appliedTo": applied}).decode(),
                },
            )

    # --- events ----------------------------------------------------------------------------

    def customer_payload(self, **overrides: Any) -> dict[str, Any]:
        return {
            "id": CUSTOMER,
            "name": "Pat Lewis",
            "type": "Residential",
            "phone": E164,
            "do_not_text": False,
            "email": EMAIL,
            "do_not_mail": False,
            **overrides,
        }

    def add_event(
        self,
        event_type: str,
        *,
        occurred_at: datetime,
        payload: dict[str, Any] | None = None,
        is_backfill: bool = False,
        tenant_id: int = TENANT,
        **ids: int | None,
    ) -> str:
        seq = next(self._seq)
        event_id = f"{event_type}:{seq}"
        body = {"customer": self.customer_payload(), **(payload or {}), "is_backfill": is_backfill}
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "insert into events.workflow_events (event_seq, event_id, event_type,"
                    " tenant_id, occurred_at, customer_id, job_id, estimate_id, invoice_id,"
                    " appointment_id, payload, is_backfill, emitted_at) values (:seq, :id, :type,"
                    " :tenant, :at, :customer, :job, :estimate, :invoice, :appointment,"
                    " cast(:payload as jsonb), :backfill, now())"
                ),
                {
                    "seq": seq,
                    "id": event_id,
                    "type": event_type,
                    "tenant": tenant_id,
                    "at": occurred_at,
                    "customer": CUSTOMER,
                    "job": ids.get("job_id"),
                    "estimate": ids.get("estimate_id"),
                    "invoice": ids.get("invoice_id"),
                    "appointment": ids.get("appointment_id"),
                    "payload": orjson.dumps(body, default=str).decode(),
                    "backfill": is_backfill,
                },
            )
        return event_id

    def estimate_created(self, estimate_id: int, at: datetime, total: float = 1500.0) -> str:
        return self.add_event(
            "estimate_created",
            occurred_at=at,
            estimate_id=estimate_id,
            payload={
                "estimate": {
                    "id": estimate_id,
                    "name": "Pool heater install",
                    "status": "Open",
                    "subtotal": total,
                    "total": total,
                    "summary": "Heat pump, 140k BTU",
                }
            },
        )

    # --- engine ----------------------------------------------------------------------------

    def match(self, now: datetime = NOON, after_seq: int = 0) -> MatchResult:
        return match_events(self.engine, self.settings, after_seq=after_seq, now=now)

    def run(self, instance_id: int, now: datetime) -> InstanceResult:
        return run_instance(self.engine, instance_id, now, services=self.services)

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]

    def outbox(self) -> list[dict[str, Any]]:
        return self.rows(
            "select idempotency_key, instance_id, step_key, channel, to_address, body, status"
            " from automation.outbox order by id"
        )

    def instance(self, instance_id: int) -> dict[str, Any]:
        sql = "select * from automation.workflow_instances where id = :i"
        return self.rows(sql, i=instance_id)[0]

    def step_runs(self, instance_id: int) -> list[dict[str, Any]]:
        return self.rows(
            "select step_key, step_type, status, attempt, result, error"
            " from automation.workflow_step_runs where instance_id = :i order by id",
            i=instance_id,
        )

    def instances_of(self, workflow: str) -> list[dict[str, Any]]:
        return self.rows(
            "select * from automation.workflow_instances where definition_name = :w order by id",
            w=workflow,
        )


def make_flow(engine: sa.Engine, workflows_dir: Path | None = None, **settings: Any) -> Flow:
    """A `Flow` on `engine`, whose database must hold dbt's `events.workflow_events`."""
    with engine.connect() as conn:
        assert events.relation_exists(conn), "make_flow needs the events_engine fixture"
    url = engine.url.render_as_string(hide_password=False)
    overrides: dict[str, Any] = {}
    if workflows_dir is not None:
        overrides["workflows_dir"] = workflows_dir
    app_settings = load_settings(database_url=url, **overrides, **settings)
    services = Services(engine, app_settings, anthropic_factory=lambda: None)
    sync_from_files(engine, app_settings)
    return Flow(engine, app_settings, services)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
