"""Incidents: what failed, why (the rules' diagnosis and Claude's), what the platform did about
it and what resolved it, read from the `monitoring` tables, so a model can answer "why did last
night's sync fail?"."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from perfect_catch.tools import lookup
from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.errors import NotFoundError
from perfect_catch.tools.registry import tool


class ListIncidentsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["open", "resolved", "all"] = Field(
        "all", description="Only open incidents, only resolved ones, or both."
    )
    source: str | None = Field(
        None, description="Only this source (servicetitan, gohighlevel, callrail, dbt, ...)."
    )
    since: datetime | None = Field(None, description="Only incidents seen since this instant.")
    limit: int = Field(20, ge=1, le=200)


@tool("list_incidents", read_only=True, idempotent=True, title="List incidents")
def list_incidents(context: ToolContext, params: ListIncidentsInput) -> dict[str, Any]:
    """Monitoring incidents, newest first: one per root cause (a refused credential, an outage,
    a rate limit, schema drift, stale data, stuck work), with kind, source, tenant, the entities
    it affected, status, first and last seen, how many runs hit it and the diagnosis. Use
    explain_incident for one incident's full story."""
    with context.engine.connect() as conn:
        incidents = lookup.rows(
            conn,
            """
            select id, kind, status, source, tenant_id, entity, entities, occurrences,
                   first_seen, last_seen, diagnosis, suggested_fix, resolved_at, resolved_by
            from monitoring.incidents
            where (:status = 'all' or status = :status)
              and (cast(:source as text) is null or source = :source)
              and (cast(:since as timestamptz) is null or last_seen >= :since)
            order by last_seen desc limit :limit
            """,
            status=params.status,
            source=params.source,
            since=params.since,
            limit=params.limit,
        )
    return {"incidents": incidents, "count": len(incidents)}


class ExplainIncidentInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident_id: int = Field(description="The incident id (from list_incidents).")


@tool("explain_incident", read_only=True, idempotent=True, title="Explain an incident")
def explain_incident(context: ToolContext, params: ExplainIncidentInput) -> dict[str, Any]:
    """One incident in full: the last error (secrets removed), the rules' diagnosis and
    suggested fix with their confidence, Claude's diagnosis when one was made, the runs
    involved, every automatic healing action taken (re-runs with their attempt, outbox
    reconciliation, workflow resumes), the alerts sent and, once resolved, what resolved it."""
    with context.engine.connect() as conn:
        found = lookup.rows(
            conn, "select * from monitoring.incidents where id = :id", id=params.incident_id
        )
        if not found:
            raise NotFoundError(f"incident {params.incident_id} does not exist")
        actions = lookup.rows(
            conn,
            "select action, target, reason, result, attempt, taken_at"
            " from monitoring.healing_actions where incident_id = :id order by id",
            id=params.incident_id,
        )
        alerts = lookup.rows(
            conn,
            "select event, channel, status, created_at, sent_at from monitoring.alerts"
            " where incident_id = :id order by id",
            id=params.incident_id,
        )
    incident = found[0]
    incident.pop("fingerprint", None)
    return {"incident": incident, "healing_actions": actions, "alerts": alerts}
