"""What one ST -> GHL push did, and the way a push says it has nothing to do.

Every push ends in exactly one `PushOutcome`, which the pusher writes to
`integrations.ghl_sync_log` and the workflow step and the reconciliation read back.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PushOutcome:
    """What one push did: created, updated, unchanged, skipped or failed."""

    entity: str
    entity_id: int
    outcome: str
    ghl_id: str | None = None
    detail: str | None = None


class PushSkipped(Exception):
    """A push that has nothing to do (no phone or email, not an install job, ...)."""
