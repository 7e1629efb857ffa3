"""The scheduled reconciliation: re-push what changed in ST, so GHL drift is repaired.

It runs the same idempotent pushes as the workflow steps (`ghl_pusher`), over customers created,
appointments, estimates and install jobs modified since a lookback, plus every estimate whose
opportunity is not yet in a final stage, so follow-up ages are applied without an ST change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
import sqlalchemy as sa

from perfect_catch.connectors.gohighlevel import GoHighLevelClient
from perfect_catch.integrations.db import connection
from perfect_catch.integrations.ghl_push_outcome import PushOutcome
from perfect_catch.integrations.ghl_pusher import GhlPusher
from perfect_catch.integrations.ghl_st_records import install_job_ids
from perfect_catch.integrations.ghl_stage_rules import FINAL_STAGES
from perfect_catch.settings import Settings
from perfect_catch.warehouse.st_statuses import AppointmentStatus


@dataclass
class ReconcileResult:
    """Counts of outcomes per entity of one reconciliation run."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def add(self, outcome: PushOutcome) -> None:
        per_entity = self.counts.setdefault(outcome.entity, {})
        per_entity[outcome.outcome] = per_entity.get(outcome.outcome, 0) + 1
        if outcome.outcome == "failed":
            self.failures.append(f"{outcome.entity} {outcome.entity_id}: {outcome.detail}")

    def as_metadata(self) -> dict[str, Any]:
        return {"counts": self.counts, "failures": len(self.failures)}


def reconcile_ghl(
    engine: sa.Engine,
    client: GoHighLevelClient,
    tenant_id: int,
    settings: Settings,
    *,
    since: datetime | None = None,
    now: Callable[[], datetime] | None = None,
    run_id: str | None = None,
) -> ReconcileResult:
    """Re-push what changed in ST since `since` (default: GHL_PUSH_LOOKBACK_DAYS ago): customers
    created, appointments, estimates and install jobs modified, plus every estimate whose
    opportunity is not in a final stage (so follow-up ages are applied and drift is repaired).

    A spent GHL daily limit stops the run (`GhlDailyLimitError`); everything pushed so far is
    recorded, and the next run repeats the rest idempotently.
    """
    pusher = GhlPusher(engine, client, tenant_id, settings, now=now, run_id=run_id)
    since = since or pusher.now() - timedelta(days=pusher.config.ghl_push_lookback_days)
    pusher.prefetch_opportunities()
    with connection(engine) as conn:
        ids = _ids_to_reconcile(conn, int(tenant_id), client.location_id, since)
        ids["jobs"] = install_job_ids(conn, int(tenant_id), ids["jobs"], pusher.install_patterns)
    result = ReconcileResult()
    for customer_id in ids["customers"]:
        result.add(pusher.push_customer(customer_id))
    for appointment_id in ids["appointments"]:
        result.add(pusher.push_appointment(appointment_id))
    for estimate_id in ids["estimates"]:
        result.add(pusher.push_estimate(estimate_id))
    for job_id in ids["jobs"]:
        result.add(pusher.push_job(job_id))
    return result


def _ids_to_reconcile(
    conn: psycopg.Connection, tenant_id: int, location_id: str, since: datetime
) -> dict[str, list[int]]:
    def ids(sql: str, params: tuple) -> list[int]:
        return [row[0] for row in conn.execute(sql, params).fetchall()]

    return {
        "customers": ids(
            "select id from servicetitan.st_customers where tenant_id = %s and deleted_at is null "
            "and merged_to_id is null and coalesce(active, true) "
            "and created_on >= %s order by id",
            (tenant_id, since),
        ),
        "appointments": ids(
            "select id from servicetitan.st_appointments where tenant_id = %s "
            "and deleted_at is null and modified_on >= %s "
            "and lower(coalesce(status, '')) <> lower(%s) order by id",
            (tenant_id, since, AppointmentStatus.CANCELED),
        ),
        "estimates": ids(
            "select e.id from servicetitan.st_estimates e where e.tenant_id = %s "
            "and e.deleted_at is null and (e.modified_on >= %s or exists ("
            "select 1 from integrations.ghl_estimate_opportunities l "
            "where l.tenant_id = e.tenant_id "
            "and l.estimate_id = e.id and l.location_id = %s "
            "and coalesce(l.stage_key, '') <> all(%s))) order by e.id",
            (tenant_id, since, location_id, list(FINAL_STAGES)),
        ),
        "jobs": ids(
            "select id from servicetitan.st_jobs where tenant_id = %s and deleted_at is null "
            "and modified_on >= %s order by id",
            (tenant_id, since),
        ),
    }
