"""The kinds of incident and what each one implies for its scope, retries and resolution."""

from __future__ import annotations

from typing import Literal

Kind = Literal[
    "auth_failed",
    "rate_limited",
    "source_down",
    "timeout",
    "schema_drift",
    "bad_records",
    "stale",
    "stuck_run",
    "volume_anomaly",
    "workflow_stuck",
    "outbox_stuck",
    "unknown",
]

KINDS: tuple[str, ...] = (
    "auth_failed",
    "rate_limited",
    "source_down",
    "timeout",
    "schema_drift",
    "bad_records",
    "stale",
    "stuck_run",
    "volume_anomaly",
    "workflow_stuck",
    "outbox_stuck",
    "unknown",
)

#: Causes shared by everything a source serves to one tenant: one refused credential or one
#: unreachable host stops every entity, and is one incident however many entities fail with it.
SOURCE_WIDE: frozenset[str] = frozenset({"auth_failed", "rate_limited", "source_down", "timeout"})

#: Causes that no retry can fix: they alert and wait for a person.
PERMANENT: frozenset[str] = frozenset({"auth_failed", "schema_drift"})

#: Causes that a successful sync of the scope proves gone. The check kinds (bad records, volume)
#: are resolved by their own check passing, not by a sync that merely ran.
RESOLVED_BY_SYNC: frozenset[str] = frozenset(
    {"auth_failed", "rate_limited", "source_down", "timeout", "schema_drift", "stale", "unknown"}
)

#: Kinds an open source-wide cause brings on: they are added to that incident, not opened anew.
CONSEQUENCES: frozenset[str] = frozenset({"stale", "volume_anomaly", "unknown"})


def fingerprint(kind: str, source: str, tenant_id: str | None, entity: str | None) -> str:
    """The identity of a root cause: its kind and scope, never its error text.

    A source-wide cause leaves the entity out, so every entity failing with it lands on one
    incident; a cause of one entity's own keeps it.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown incident kind {kind!r}; known: {', '.join(KINDS)}")
    scope_entity = None if kind in SOURCE_WIDE else entity
    return ":".join([kind, source, tenant_id or "*", scope_entity or "*"])
