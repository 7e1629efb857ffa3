"""The checks on synced data, as plain functions: freshness, row-count drops, volume against
the same weekday's history, and the share of rejected records.

Each returns a `CheckOutcome` per (source, tenant, entity); `evaluate` records a failing one as
(or adds it to) an incident and resolves the open incident of a passing one, so Dagster's asset
checks and any other caller share one rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import mean

import sqlalchemy as sa

from perfect_catch.monitoring.freshness import fail_window
from perfect_catch.monitoring.recording import Monitor
from perfect_catch.settings import Settings

#: Weeks of the same weekday a day's volume is compared with.
HISTORY_WEEKS = 4
#: A day under this share of its weekday's mean is an anomaly…
VOLUME_FLOOR = 0.25
#: …when that mean is at least this many records (small numbers are noise).
VOLUME_MIN_MEAN = 20.0
#: More rejected than this share of the records read in a day: bad records.
REJECT_SHARE = 0.05
#: One reason behind this share of the rejects, naming a missing field: schema drift.
DRIFT_SHARE = 0.8
#: What a passing check proves gone, by the kind its failure would have.
RESOLVES: dict[str, frozenset[str]] = {
    "bad_records": frozenset({"bad_records", "schema_drift"}),
}


@dataclass(frozen=True)
class CheckOutcome:
    """One check of one scope: passed or not, with the detail an operator reads."""

    check: str
    kind: str
    source: str
    tenant_id: str | None
    entity: str | None
    passed: bool
    detail: str
    metadata: dict[str, float | int | str | None] = field(default_factory=dict)


def volume_is_anomalous(day: int, same_weekdays: list[int]) -> bool:
    """True when `day` falls far under the mean of the same weekday in earlier weeks."""
    if not same_weekdays:
        return False
    usual = mean(same_weekdays)
    return usual >= VOLUME_MIN_MEAN and day < VOLUME_FLOOR * usual


def freshness(
    engine: sa.Engine, settings: Settings, source: str, tenant_id: str, entity: str, now: datetime
) -> CheckOutcome:
    """Stale when the last successful sync is older than the source's freshness window."""
    window = fail_window(source, settings) or timedelta(days=1)
    with engine.connect() as conn:
        last = conn.execute(
            sa.text(
                "select max(finished_at) from monitoring.sync_runs where ok and source = :s"
                " and (tenant_id = :t or tenant_id is null) and (entity = :e or entity is null)"
            ),
            {"s": source, "t": tenant_id, "e": entity},
        ).scalar()
    age = None if last is None else (now - last).total_seconds()
    passed = age is not None and age <= window.total_seconds()
    detail = (
        f"last success {last.isoformat() if last else 'never'}; the freshness policy allows "
        f"{window.total_seconds() / 60:.0f} min"
    )
    return CheckOutcome(
        "freshness",
        "stale",
        source,
        tenant_id,
        entity,
        passed,
        detail,
        {"age_seconds": age, "limit_seconds": window.total_seconds()},
    )


def row_count(
    engine: sa.Engine,
    source: str,
    tenant_id: str,
    entity: str,
    table: str,
    now: datetime,
) -> CheckOutcome:
    """Live rows never drop without soft-deletes to explain it (`table` is a catalogue name)."""
    with engine.begin() as conn:
        counts = conn.execute(
            sa.text(
                f"select count(*) filter (where deleted_at is null) as live,"
                f" count(*) filter (where deleted_at is not null) as deleted"
                f" from {table} where tenant_id = cast(:t as bigint)"
            ),
            {"t": tenant_id},
        ).one()
        previous = conn.execute(
            sa.text(
                "select live, deleted from monitoring.row_counts where source = :s"
                " and tenant_id = :t and entity = :e order by counted_at desc limit 1"
            ),
            {"s": source, "t": tenant_id, "e": entity},
        ).first()
        conn.execute(
            sa.text(
                "insert into monitoring.row_counts (source, tenant_id, entity, live, deleted,"
                " counted_at) values (:s, :t, :e, :live, :deleted, :now)"
            ),
            {
                "s": source,
                "t": tenant_id,
                "e": entity,
                "live": counts.live,
                "deleted": counts.deleted,
                "now": now,
            },
        )
    dropped = 0 if previous is None else previous.live - counts.live
    explained = 0 if previous is None else counts.deleted - previous.deleted
    passed = dropped <= max(explained, 0)
    detail = f"{counts.live} live rows" + (
        "" if previous is None else f" (was {previous.live}; {max(explained, 0)} deleted)"
    )
    return CheckOutcome(
        "row_count",
        "volume_anomaly",
        source,
        tenant_id,
        entity,
        passed,
        detail if passed else f"{dropped} rows vanished without deletes: {detail}",
        {"live": counts.live, "deleted": counts.deleted, "dropped": dropped},
    )


def volume(
    engine: sa.Engine,
    source: str,
    tenant_id: str,
    entity: str,
    table: str,
    now: datetime,
) -> CheckOutcome:
    """Yesterday's changed records against the same weekday of the weeks before."""
    day = (now.astimezone(UTC) - timedelta(days=1)).date()
    days = [day - timedelta(weeks=w) for w in range(HISTORY_WEEKS + 1)]
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                f"select cast(modified_on as date) as day, count(*) as n from {table}"
                " where tenant_id = cast(:t as bigint) and cast(modified_on as date) = any(:days)"
                " group by 1"
            ),
            {"t": tenant_id, "days": days},
        ).all()
    by_day = {row.day: int(row.n) for row in rows}
    history = [by_day.get(d, 0) for d in days[1:]]
    today = by_day.get(day, 0)
    anomalous = volume_is_anomalous(today, history)
    usual = mean(history) if history else 0.0
    return CheckOutcome(
        "volume",
        "volume_anomaly",
        source,
        tenant_id,
        entity,
        not anomalous,
        f"{today} records changed on {day.isoformat()} ({day.strftime('%A')}); the same "
        f"weekday averaged {usual:.0f} over {HISTORY_WEEKS} weeks",
        {"day": today, "weekday_mean": round(usual, 1)},
    )


def rejects(
    engine: sa.Engine, source: str, tenant_id: str, entity: str, now: datetime
) -> CheckOutcome:
    """The share of records rejected by the loader in the last day."""
    since = now - timedelta(days=1)
    with engine.connect() as conn:
        rejected = int(
            conn.execute(
                sa.text(
                    "select count(*) from public.sync_rejects where source = :s"
                    " and tenant_id = :t and entity = :e and rejected_at > :since"
                ),
                {"s": source, "t": tenant_id, "e": entity, "since": since},
            ).scalar()
        )
        read = int(
            conn.execute(
                sa.text(
                    "select coalesce(sum(records), 0) from monitoring.sync_runs where ok"
                    " and source = :s and tenant_id = :t and entity = :e and finished_at > :since"
                ),
                {"s": source, "t": tenant_id, "e": entity, "since": since},
            ).scalar()
        )
        reasons = conn.execute(
            sa.text(
                "select reason, count(*) as n from public.sync_rejects where source = :s"
                " and tenant_id = :t and entity = :e and rejected_at > :since"
                " group by reason order by n desc limit 1"
            ),
            {"s": source, "t": tenant_id, "e": entity, "since": since},
        ).first()
    share = rejected / read if read else (1.0 if rejected else 0.0)
    # One field missing from (nearly) every rejected record is the source's layout changing
    # (renamed or dropped), not bad records: a schema drift that only a person can follow.
    drift = (
        reasons is not None
        and reasons.reason.endswith(": missing")
        and reasons.n >= DRIFT_SHARE * rejected
    )
    detail = f"{rejected} of {read} records rejected in the last day ({share:.1%})"
    if reasons is not None:
        detail += f"; most often: {reasons.reason[:120]}"
    return CheckOutcome(
        "rejects",
        "schema_drift" if drift else "bad_records",
        source,
        tenant_id,
        entity,
        share <= REJECT_SHARE,
        detail,
        {"rejected": rejected, "read": read, "share": round(share, 4)},
    )


def evaluate(monitor: Monitor, outcomes: list[CheckOutcome], run_id: str) -> dict[int, str]:
    """Record the failing checks (their incident ids, with what failed) and resolve the open
    incident of every kind whose checks all passed for a scope (two checks share a kind: a
    passing volume check must not resolve a failing row count)."""
    failing: dict[int, str] = {}
    by_scope: dict[tuple[str, str | None, str | None, str], list[CheckOutcome]] = {}
    for outcome in outcomes:
        key = (outcome.source, outcome.tenant_id, outcome.entity, outcome.kind)
        by_scope.setdefault(key, []).append(outcome)
    for (source, tenant, entity, kind), group in by_scope.items():
        failed = [o for o in group if not o.passed]
        if failed:
            recorded = monitor.check_failed(
                kind=kind,
                source=source,
                detail="; ".join(o.detail for o in failed),
                run_id=run_id,
                tenant_id=tenant,
                entity=entity,
            )
            failing[recorded.incident_id] = ", ".join(o.check for o in failed)
            continue
        monitor.success(
            source=source,
            run_id=run_id,
            tenant_id=tenant,
            entity=entity,
            kinds=RESOLVES.get(kind, frozenset({kind})),
            sync=False,
        )
    return failing
