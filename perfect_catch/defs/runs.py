"""Asking the Dagster instance whether a job already has a run under way, so schedules and
sensors skip a tick instead of piling a second run on top of a running one."""

from collections.abc import Mapping

import dagster as dg

ACTIVE_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def has_active_run(
    instance: dg.DagsterInstance, job_name: str, tags: Mapping[str, str] | None = None
) -> bool:
    """True when `job_name` has a queued or running run (with `tags`, e.g. one partition)."""
    records = instance.get_run_records(
        dg.RunsFilter(job_name=job_name, statuses=ACTIVE_STATUSES, tags=dict(tags or {})),
        limit=1,
    )
    return bool(records)
