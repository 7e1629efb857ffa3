"""Which stage ST's state calls for, and whether an opportunity may move there.

An estimate's opportunity follows the estimate: sold goes to JOB_SOLD, or into the install
pipeline when an install job was sold from it; dismissed is lost; an open estimate older than
`GHL_FOLLOWUP_AFTER_DAYS` wants a follow-up. Opportunities only move forward (`ghl_stages.RANK`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from perfect_catch.integrations.ghl_stages import INSTALL_STAGE_OF_JOB, RANK
from perfect_catch.warehouse.st_statuses import EstimateStatus

FINAL_STAGES = ("JOB_SOLD", "ESTIMATE_LOST", "INSTALL_COMPLETE")
"""Stages an estimate's opportunity is not re-pushed from by the reconciliation."""


def estimate_stage(
    estimate: dict[str, Any],
    install_job: Callable[[], dict[str, Any] | None],
    now: Callable[[], datetime],
    followup_after: timedelta,
) -> str:
    """The stage key the estimate calls for; `install_job` is read only for a sold estimate,
    `now` only for an open one."""
    status = (estimate["status"] or "").lower()
    if status == EstimateStatus.SOLD.lower():
        job = install_job()
        if job is not None:
            return INSTALL_STAGE_OF_JOB.get(job["job_status"] or "", "INSTALL_PENDING")
        return "JOB_SOLD"
    if status == EstimateStatus.DISMISSED.lower():
        return "ESTIMATE_LOST"
    created = estimate["created_on"]
    if created is not None and now() - created >= followup_after:
        return "ESTIMATE_FOLLOWUP"
    return "APPOINTMENT_COMPLETED_PROPOSAL_SENT"


def stays_ahead(current_key: str | None, wanted_key: str) -> bool:
    """Whether an opportunity in `current_key` is already past `wanted_key` and must stay."""
    return current_key is not None and RANK[current_key] > RANK[wanted_key]
