"""Healing: only allowlisted actions, each written to `monitoring.healing_actions`.

- `plan_reruns`: a sync whose cause is transient (rate limit, outage, timeout, staleness) is
  re-run with exponential backoff and a cap per incident; a permanent cause (`auth_failed`,
  `schema_drift`) is never retried: it was alerted and waits for a fix.
- `heal_outbox`: outbox rows stuck in `sending` are settled by the messaging layer's own
  reconciliation (the provider's record decides) before any retry.
- `resume_workflows`: instances whose worker died mid-step are run again from their last
  completed step; the step records and outbox keys make sure nothing is sent twice.

Stuck Dagster runs are failed and re-launched by Dagster's run monitoring and run retries
(`perfect_catch.instance`), which the platform configures rather than re-implements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from perfect_catch.messaging.providers import Providers, configured_channels
from perfect_catch.messaging.reconcile import reconcile
from perfect_catch.monitoring.kinds import PERMANENT
from perfect_catch.monitoring.recording import Monitor
from perfect_catch.settings import Settings

#: What the platform may do on its own; anything else waits for a person.
ALLOWED_ACTIONS = frozenset(
    {"rerun_sync", "gave_up", "reconcile_outbox", "resume_workflow", "retry_alert"}
)
RETRYABLE = frozenset({"rate_limited", "source_down", "timeout", "stale", "unknown"})


def log_action(
    conn: sa.Connection,
    *,
    action: str,
    target: str,
    reason: str,
    result: str,
    incident_id: int | None = None,
    detail: str | None = None,
    attempt: int = 1,
    at: datetime | None = None,
) -> None:
    """Write one action taken (at `at`, default now); an action outside the allowlist is a
    programming error."""
    if action not in ALLOWED_ACTIONS:
        raise ValueError(f"healing action {action!r} is not allowlisted")
    conn.execute(
        sa.text(
            "insert into monitoring.healing_actions (incident_id, action, target, reason,"
            " result, detail, attempt, taken_at) values (:i, :a, :t, :r, :res, :d, :n,"
            " coalesce(cast(:at as timestamptz), now()))"
        ),
        {
            "i": incident_id,
            "a": action,
            "t": target,
            "r": reason,
            "res": result,
            "d": detail,
            "n": attempt,
            "at": at,
        },
    )


@dataclass(frozen=True)
class Rerun:
    """A sync to run again: which source, tenant and entities (None: all of the source)."""

    incident_id: int
    source: str
    tenant_id: str | None
    entities: tuple[str, ...] | None
    attempt: int


def backoff(attempt: int, settings: Settings) -> timedelta:
    """Wait before re-run number `attempt` (1-based): base, 2 × base, 4 × base … up to the max."""
    config = settings.monitoring
    seconds = config.monitoring_rerun_base_seconds * 2 ** (attempt - 1)
    return timedelta(seconds=min(seconds, config.monitoring_rerun_max_seconds))


def plan_reruns(
    engine: sa.Engine,
    settings: Settings,
    *,
    now: datetime | None = None,
    sources: tuple[str, ...] = ("servicetitan",),
    running: frozenset[tuple[str, str | None]] = frozenset(),
) -> list[Rerun]:
    """The re-runs due now for open incidents of `sources`; each is logged as requested.

    An incident's n-th re-run is due `backoff(n)` after its previous attempt (or after it
    opened); after `MONITORING_RERUN_MAX_ATTEMPTS` it is logged as given up once and left to
    a person. A scope in `running` (a sync already under way) is skipped this time.
    """
    now = now or datetime.now(UTC)
    limit = settings.monitoring.monitoring_rerun_max_attempts
    planned: list[Rerun] = []
    with engine.begin() as conn:
        rows = conn.execute(
            sa.text(
                """
                select i.id, i.kind, i.source, i.tenant_id, i.entity, i.entities, i.first_seen,
                    (select count(*) from monitoring.healing_actions h
                     where h.incident_id = i.id and h.action = 'rerun_sync') as attempts,
                    (select max(h.taken_at) from monitoring.healing_actions h
                     where h.incident_id = i.id and h.action = 'rerun_sync') as last_attempt,
                    exists (select 1 from monitoring.healing_actions h
                     where h.incident_id = i.id and h.action = 'gave_up') as gave_up
                from monitoring.incidents i
                where i.status = 'open' and i.source = any(:sources)
                order by i.id
                for update of i skip locked
                """
            ),
            {"sources": list(sources)},
        ).mappings()
        for row in rows:
            if row["kind"] in PERMANENT or row["kind"] not in RETRYABLE:
                continue
            if (row["source"], row["tenant_id"]) in running:
                continue
            attempt = int(row["attempts"]) + 1
            target = f"{row['source']}/{row['tenant_id'] or '*'}/{row['entity'] or '*'}"
            if attempt > limit:
                if not row["gave_up"]:
                    log_action(
                        conn,
                        action="gave_up",
                        target=target,
                        reason=f"{limit} re-runs did not clear {row['kind']}",
                        result="alerted; waiting for a person",
                        incident_id=row["id"],
                        attempt=attempt,
                        at=now,
                    )
                continue
            since = row["last_attempt"] or row["first_seen"]
            if now < since + backoff(attempt, settings):
                continue
            entities = (row["entity"],) if row["entity"] else tuple(row["entities"]) or None
            log_action(
                conn,
                action="rerun_sync",
                target=target,
                reason=f"{row['kind']} incident #{row['id']}, attempt {attempt}",
                result="requested",
                incident_id=row["id"],
                attempt=attempt,
                at=now,
            )
            planned.append(Rerun(row["id"], row["source"], row["tenant_id"], entities, attempt))
    return planned


def heal_outbox(
    engine: sa.Engine, settings: Settings, *, now: datetime | None = None
) -> dict[str, Any]:
    """Settle outbox rows stuck in `sending` or `unknown` through the messaging layer's one
    reconciliation (`messaging.reconcile.reconcile`, also behind `perfect-catch outbox reconcile`).

    This is the one place monitoring reaches into the outbox: the provider's record decides
    (found -> sent, never re-sent); what it cannot settle stays for the layer's own rules.
    """
    now = now or datetime.now(UTC)
    channels = configured_channels(settings)
    if not channels:
        return {"skipped": "no provider is configured"}
    monitor = Monitor(engine, settings)
    stale = _stale_sending(engine, settings, now)
    recorded = None
    if stale:
        recorded = monitor.check_failed(
            kind="outbox_stuck",
            source="outbox",
            detail=f"{stale} message(s) left in sending past MESSAGING_CLAIM_TIMEOUT_SECONDS"
            " or in unknown",
            run_id=f"healing:outbox:{now.strftime('%Y%m%dT%H%M%SZ')}",
        )
    report = reconcile(engine, Providers(settings), settings.messaging, now=now)
    summary = {"reconciled": report.sent, "released": report.released, "unknown": report.unknown}
    if report.sent or report.released or report.unknown:
        with engine.begin() as conn:
            log_action(
                conn,
                action="reconcile_outbox",
                target="automation.outbox",
                reason="rows left in sending past MESSAGING_CLAIM_TIMEOUT_SECONDS or in unknown",
                result=report.line(),
                incident_id=recorded.incident_id if recorded else None,
                detail="; ".join(report.notes[:5]) or None,
            )
    if not _stale_sending(engine, settings, now):
        open_ids = _open_of_kind(engine, "outbox_stuck")
        if open_ids:
            monitor.resolved(open_ids, "stuck outbox rows reconciled with their provider")
    return summary


def _stale_sending(engine: sa.Engine, settings: Settings, now: datetime) -> int:
    cutoff = now - timedelta(seconds=settings.messaging.messaging_claim_timeout_seconds)
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.text(
                    "select count(*) from automation.outbox where status = 'unknown'"
                    " or (status = 'sending' and claimed_at < :cutoff)"
                ),
                {"cutoff": cutoff},
            ).scalar()
        )


def stuck_instances(
    engine: sa.Engine, settings: Settings, now: datetime | None = None
) -> list[int]:
    """Due instances nobody has advanced for `MONITORING_WORKFLOW_STUCK_SECONDS` (their worker
    died, or the sensor that runs them is off)."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(seconds=settings.monitoring.monitoring_workflow_stuck_seconds)
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "select i.id from automation.workflow_instances i"
                    " join automation.workflow_definitions d on d.name = i.definition_name"
                    " where i.status in ('pending', 'waiting') and not i.paused and d.enabled"
                    " and i.next_run_at <= :cutoff and i.updated_at <= :cutoff"
                    " order by i.id limit 200"
                ),
                {"cutoff": cutoff},
            ).scalars()
        )


def resume_workflows(
    engine: sa.Engine, settings: Settings, *, now: datetime | None = None
) -> dict[str, int]:
    """Run stuck instances again from their last completed step (nothing is sent twice: a
    message step commits its outbox row and its step record together)."""
    from perfect_catch.workflows.running import run_instance
    from perfect_catch.workflows.runtime import Services

    now = now or datetime.now(UTC)
    stuck = stuck_instances(engine, settings, now)
    monitor = Monitor(engine, settings)
    counts: dict[str, int] = {}
    if not stuck:
        open_ids = _open_of_kind(engine, "workflow_stuck")
        if open_ids:
            monitor.resolved(open_ids, "no workflow instance is stuck any more")
        return counts
    run_id = f"healing:resume:{now.strftime('%Y%m%dT%H%M%SZ')}"
    recorded = monitor.check_failed(
        kind="workflow_stuck",
        source="workflows",
        detail=f"{len(stuck)} instance(s) not advanced past their due time: {stuck[:10]}",
        run_id=run_id,
    )
    services = Services(engine, settings)
    try:
        for instance_id in stuck:
            outcome = run_instance(engine, instance_id, now, services=services)
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
            with engine.begin() as conn:
                log_action(
                    conn,
                    action="resume_workflow",
                    target=f"workflow_instance/{instance_id}",
                    reason="due and not advanced past MONITORING_WORKFLOW_STUCK_SECONDS",
                    result=outcome.status,
                    incident_id=recorded.incident_id,
                    detail=outcome.note or None,
                )
    finally:
        services.close()
    if not stuck_instances(engine, settings, now):
        monitor.resolved([recorded.incident_id], "stuck instances resumed")
    return counts


def _open_of_kind(engine: sa.Engine, kind: str) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text("select id from monitoring.incidents where status = 'open' and kind = :k"),
                {"k": kind},
            ).scalars()
        )


def stuck_work(
    engine: sa.Engine, settings: Settings, now: datetime | None = None
) -> dict[str, int]:
    """What the healing job would act on now: stale `sending` rows and stuck instances."""
    now = now or datetime.now(UTC)
    sending = _stale_sending(engine, settings, now)
    with engine.connect() as conn:
        slack = int(
            conn.execute(
                sa.text(
                    "select count(*) from monitoring.alerts where channel = 'slack'"
                    " and status = 'failed' and attempts < 5"
                )
            ).scalar()
        )
    found = {
        "outbox_sending": sending,
        "workflow_instances": len(stuck_instances(engine, settings, now)),
        "slack_alerts": slack,
    }
    return {name: n for name, n in found.items() if n}
