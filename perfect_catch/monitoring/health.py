"""The health report: every synced scope, open incidents and backlogs, from PostgreSQL alone.

It reads the database only (never the Dagster instance), so it answers the same with or
without the daemon: for cron, uptime checks and Kubernetes probes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from perfect_catch.monitoring.freshness import SYNC_SOURCES, fail_window
from perfect_catch.settings import Settings
from perfect_catch.workflows.events import relation_exists
from perfect_catch.workflows.progress import read_cursor


@dataclass
class ScopeHealth:
    """One (source, tenant, entity): when it last succeeded and whether that is recent enough."""

    source: str
    tenant_id: str | None
    entity: str | None
    last_success: datetime | None
    age_seconds: float | None
    limit_seconds: float | None
    last_error: str | None
    incidents: list[str] = field(default_factory=list)

    @property
    def fresh(self) -> bool:
        if self.limit_seconds is None:
            return True
        return self.age_seconds is not None and self.age_seconds <= self.limit_seconds


@dataclass
class HealthReport:
    """Everything `perfect-catch health` shows; `problems` lists why it is unhealthy."""

    checked_at: datetime
    scopes: list[ScopeHealth]
    incidents: list[dict[str, Any]]
    event_backlog: int
    outbox: dict[str, int]
    dispatcher_lag_seconds: float
    problems: list[str]

    @property
    def healthy(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["healthy"] = self.healthy
        for scope, raw in zip(self.scopes, data["scopes"], strict=True):
            raw["fresh"] = scope.fresh
        return _jsonable(data)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


_SCOPES = sa.text(
    """
    with scopes as (
        select source, tenant_id, entity from public.sync_state
        union
        select source, tenant_id, entity from monitoring.sync_runs
        where source = any(:sources)
    )
    select s.source, s.tenant_id, s.entity,
        (select max(r.finished_at) from monitoring.sync_runs r
         where r.ok and r.source = s.source
           and (r.tenant_id is not distinct from s.tenant_id or r.tenant_id is null)
           and (r.entity is not distinct from s.entity or r.entity is null)) as last_ok,
        (select st.updated_at from public.sync_state st
         where st.source = s.source and st.tenant_id = s.tenant_id
           and st.entity = s.entity) as state_at,
        (select r.error from monitoring.sync_runs r
         where r.source = s.source and r.tenant_id is not distinct from s.tenant_id
           and r.entity is not distinct from s.entity
         order by r.finished_at desc limit 1) as last_error
    from scopes s
    order by s.source, s.tenant_id nulls first, s.entity nulls first
    """
)


def health_report(
    engine: sa.Engine, settings: Settings, now: datetime | None = None
) -> HealthReport:
    """Read the database and say what is unhealthy (stale data, open incidents, backlogs)."""
    now = now or datetime.now(UTC)
    problems: list[str] = []
    with engine.connect() as conn:
        rows = conn.execute(_SCOPES, {"sources": list(SYNC_SOURCES)}).mappings().all()
        incidents = [
            dict(r)
            for r in conn.execute(
                sa.text(
                    "select id, kind, source, tenant_id, entity, entities, occurrences,"
                    " first_seen, last_seen, diagnosis, suggested_fix, claude_diagnosis"
                    " from monitoring.incidents where status = 'open' order by first_seen"
                )
            ).mappings()
        ]
        outbox = {
            r.status: int(r.n)
            for r in conn.execute(
                sa.text(
                    "select status, count(*) as n from automation.outbox"
                    " where status in ('pending', 'sending', 'unknown', 'failed')"
                    " group by status"
                )
            )
        }
        lag_from = conn.execute(
            sa.text(
                "select min(due_at) from automation.outbox where status = 'pending'"
                " and due_at <= :now"
            ),
            {"now": now},
        ).scalar()
        stuck_sending = int(
            conn.execute(
                sa.text(
                    "select count(*) from automation.outbox where status = 'sending'"
                    " and claimed_at < :cutoff"
                ),
                {
                    "cutoff": now - _seconds(settings.messaging.messaging_claim_timeout_seconds),
                },
            ).scalar()
        )
        backlog = 0
        if relation_exists(conn):
            backlog = int(
                conn.execute(
                    sa.text("select count(*) from events.workflow_events where event_seq > :c"),
                    {"c": read_cursor(engine)},
                ).scalar()
            )
    by_scope: dict[tuple[str, str | None], list[str]] = {}
    for incident in incidents:
        by_scope.setdefault((incident["source"], incident["tenant_id"]), []).append(
            f"#{incident['id']} {incident['kind']}"
        )
        problems.append(
            f"incident #{incident['id']} {incident['kind']} ({incident['source']}"
            f"{' tenant ' + incident['tenant_id'] if incident['tenant_id'] else ''}): "
            f"{incident['diagnosis']}"
        )
    scopes = []
    for row in rows:
        last = row["last_ok"] or row["state_at"]
        window = fail_window(row["source"], settings)
        scope = ScopeHealth(
            source=row["source"],
            tenant_id=row["tenant_id"],
            entity=row["entity"],
            last_success=last,
            age_seconds=None if last is None else (now - last).total_seconds(),
            limit_seconds=None if window is None else window.total_seconds(),
            last_error=row["last_error"],
            incidents=by_scope.get((row["source"], row["tenant_id"]), [])
            + by_scope.get((row["source"], None), []),
        )
        if not scope.fresh:
            problems.append(
                f"{scope.source} {scope.tenant_id or ''} {scope.entity or ''}: stale "
                f"(last success {last.isoformat() if last else 'never'})"
            )
        scopes.append(scope)
    lag = 0.0 if lag_from is None else max(0.0, (now - lag_from).total_seconds())
    if lag > settings.monitoring.monitoring_dispatcher_lag_seconds:
        problems.append(f"outbox: the oldest due message has waited {lag:.0f} s")
    if outbox.get("unknown"):
        problems.append(f"outbox: {outbox['unknown']} message(s) in unknown")
    if stuck_sending:
        problems.append(f"outbox: {stuck_sending} message(s) stuck in sending")
    return HealthReport(
        checked_at=now,
        scopes=scopes,
        incidents=incidents,
        event_backlog=backlog,
        outbox={
            "queued": outbox.get("pending", 0),
            "sending": outbox.get("sending", 0),
            "unknown": outbox.get("unknown", 0),
            "failed": outbox.get("failed", 0),
        },
        dispatcher_lag_seconds=lag,
        problems=problems,
    )


def _seconds(value: float) -> Any:
    from datetime import timedelta

    return timedelta(seconds=value)
