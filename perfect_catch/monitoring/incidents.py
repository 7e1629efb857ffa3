"""The incident store: one open row per root cause, opened, added to and resolved here only.

Recording is one `INSERT ... ON CONFLICT` on the partial unique index of open fingerprints, so
two recorders racing on the same cause (a Dagster sensor and a cron `run-once`) end with one
open incident and both occurrences counted. A consequence of an open source-wide cause (an
entity going stale because ServiceTitan refuses the credentials) is added to that incident
rather than opened as a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from perfect_catch.monitoring.classify import Diagnosis
from perfect_catch.monitoring.kinds import (
    CONSEQUENCES,
    RESOLVED_BY_SYNC,
    SOURCE_WIDE,
    fingerprint,
)
from perfect_catch.monitoring.scrub import Scrubber

MAX_ERROR_CHARS = 2000
MAX_RUN_IDS = 50


@dataclass(frozen=True)
class Failure:
    """One failure to record: what failed (scope), in which run, and the rules' diagnosis."""

    source: str
    diagnosis: Diagnosis
    error: str
    run_id: str
    tenant_id: str | None = None
    entity: str | None = None


@dataclass(frozen=True)
class Recorded:
    """What recording did: the incident, and whether this call opened it."""

    incident_id: int
    opened: bool
    kind: str


_UPSERT = sa.text(
    """
    insert into monitoring.incidents (fingerprint, kind, source, tenant_id, entity, entities,
        last_error, diagnosis, suggested_fix, diagnosed_by, confidence, run_ids)
    values (:fingerprint, :kind, :source, :tenant, :scope_entity,
        case when cast(:entity as text) is null then '{}'::text[]
             else array[cast(:entity as text)] end,
        :error, :diagnosis, :fix, 'rules', :confidence, array[cast(:run_id as text)])
    on conflict (fingerprint) where status = 'open' do update set
        last_seen = now(),
        last_error = excluded.last_error,
        occurrences = monitoring.incidents.occurrences
            + case when :run_id = any(monitoring.incidents.run_ids) then 0 else 1 end,
        run_ids = case when :run_id = any(monitoring.incidents.run_ids)
            then monitoring.incidents.run_ids
            else (monitoring.incidents.run_ids || array[cast(:run_id as text)])[1 : 50] end,
        entities = case when cast(:entity as text) is null
                          or :entity = any(monitoring.incidents.entities)
            then monitoring.incidents.entities
            else monitoring.incidents.entities || array[cast(:entity as text)] end
    returning id, (xmax = 0) as inserted
    """
)

_ADD_TO_CAUSE = sa.text(
    """
    update monitoring.incidents set
        last_seen = now(),
        entities = case when cast(:entity as text) is null or :entity = any(entities)
            then entities else entities || array[cast(:entity as text)] end,
        run_ids = case when :run_id = any(run_ids) then run_ids
            else (run_ids || array[cast(:run_id as text)])[1 : 50] end
    where id = (
        select id from monitoring.incidents
        where status = 'open' and source = :source and kind = any(:source_wide)
          and (tenant_id is not distinct from :tenant or tenant_id is null)
        order by first_seen limit 1)
    returning id, kind
    """
)


def record_failure(engine: sa.Engine, scrub: Scrubber, failure: Failure) -> Recorded:
    """Open the incident of `failure`'s cause, or add an occurrence to the open one."""
    d = failure.diagnosis
    error = scrub.text(failure.error)[:MAX_ERROR_CHARS]
    with engine.begin() as conn:
        if d.kind in CONSEQUENCES:
            row = conn.execute(
                _ADD_TO_CAUSE,
                {
                    "entity": failure.entity,
                    "run_id": failure.run_id,
                    "source": failure.source,
                    "tenant": failure.tenant_id,
                    "source_wide": sorted(SOURCE_WIDE),
                },
            ).first()
            if row is not None:
                return Recorded(int(row.id), False, row.kind)
        row = conn.execute(
            _UPSERT,
            {
                "fingerprint": fingerprint(
                    d.kind, failure.source, failure.tenant_id, failure.entity
                ),
                "kind": d.kind,
                "source": failure.source,
                "tenant": failure.tenant_id,
                "scope_entity": None if d.kind in SOURCE_WIDE else failure.entity,
                "entity": failure.entity,
                "error": error,
                "diagnosis": scrub.text(d.diagnosis),
                "fix": scrub(d.suggested_fix),
                "confidence": d.confidence,
                "run_id": failure.run_id,
            },
        ).one()
    return Recorded(int(row.id), bool(row.inserted), d.kind)


def resolve(
    engine: sa.Engine,
    *,
    source: str,
    tenant_id: str | None,
    entity: str | None,
    run_id: str,
    kinds: frozenset[str] = RESOLVED_BY_SYNC,
) -> list[int]:
    """Resolve the open incidents of `kinds` that a success of (source, tenant, entity) proves
    gone: source-wide causes of that source and tenant, and causes of that entity. Returns the
    ids resolved (each one resolved once: a second success finds nothing open)."""
    with engine.begin() as conn:
        rows = conn.execute(
            sa.text(
                """
                update monitoring.incidents set status = 'resolved', resolved_at = now(),
                    resolved_by = :by
                where status = 'open' and source = :source and kind = any(:kinds)
                  and (tenant_id is not distinct from :tenant or tenant_id is null
                       or cast(:tenant as text) is null)
                  and (entity is null or entity is not distinct from :entity)
                returning id
                """
            ),
            {
                "by": f"run {run_id}",
                "source": source,
                "kinds": sorted(kinds),
                "tenant": tenant_id,
                "entity": entity,
            },
        ).all()
    return [int(row.id) for row in rows]


def resolve_ids(engine: sa.Engine, ids: list[int], resolved_by: str) -> list[int]:
    """Resolve the given open incidents (a check that passes again, a healed backlog)."""
    if not ids:
        return []
    with engine.begin() as conn:
        rows = conn.execute(
            sa.text(
                "update monitoring.incidents set status = 'resolved', resolved_at = now(),"
                " resolved_by = :by where status = 'open' and id = any(:ids) returning id"
            ),
            {"by": resolved_by, "ids": ids},
        ).all()
    return [int(row.id) for row in rows]


def open_incidents(
    engine: sa.Engine,
    *,
    source: str | None = None,
    kinds: list[str] | None = None,
    tenant_id: str | None = None,
    entity: str | None = None,
) -> list[dict[str, Any]]:
    """Open incidents, oldest first, optionally of one source / kinds / scope."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select * from monitoring.incidents where status = 'open'"
                " and (cast(:source as text) is null or source = :source)"
                " and (cast(:kinds as text[]) is null or kind = any(:kinds))"
                " and (cast(:tenant as text) is null or tenant_id is not distinct from :tenant)"
                " and (cast(:entity as text) is null or entity is not distinct from :entity)"
                " order by first_seen, id"
            ),
            {"source": source, "kinds": kinds, "tenant": tenant_id, "entity": entity},
        ).mappings()
        return [dict(row) for row in rows]


def get_incident(engine: sa.Engine, incident_id: int) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.text("select * from monitoring.incidents where id = :id"), {"id": incident_id}
            )
            .mappings()
            .first()
        )
    return None if row is None else dict(row)


def store_claude(
    engine: sa.Engine, incident_id: int, diagnosis: str, fix: str, confidence: float
) -> None:
    """Keep Claude's answer beside the rules' one (never instead of it)."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "update monitoring.incidents set claude_diagnosis = :d,"
                " claude_suggested_fix = :f, claude_confidence = :c where id = :id"
            ),
            {"d": diagnosis, "f": fix, "c": confidence, "id": incident_id},
        )
