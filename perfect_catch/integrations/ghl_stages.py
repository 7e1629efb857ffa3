"""Stage keys, their order, and their resolution from configured names to GHL ids.

The order is what keeps an opportunity from moving backwards: a push only ever moves it to a
stage of higher rank. Lost ranks below sold, so a dismissed estimate that is later sold still
moves on, while a sold one is never dragged back to lost. Install stages follow the sales ones:
a sold install job leaves the sales pipeline for the install pipeline and walks its stages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from perfect_catch.settings import (
    INSTALL_STAGE_KEYS,
    SALES_STAGE_KEYS,
    IntegrationSettings,
)
from perfect_catch.warehouse.st_statuses import AppointmentStatus, JobStatus

RANK: dict[str, int] = {key: rank for rank, key in enumerate(SALES_STAGE_KEYS + INSTALL_STAGE_KEYS)}
STATUS: dict[str, str] = {
    "JOB_SOLD": "won",
    "ESTIMATE_LOST": "lost",
    **{key: "won" for key in INSTALL_STAGE_KEYS},
}
# ST job status -> install stage; statuses not listed (Canceled) move nothing.
INSTALL_STAGE_OF_JOB: dict[str, str] = {
    JobStatus.HOLD: "INSTALL_PENDING",
    JobStatus.SCHEDULED: "INSTALL_SCHEDULED",
    JobStatus.DISPATCHED: "INSTALL_SCHEDULED",
    JobStatus.IN_PROGRESS: "INSTALL_IN_PROGRESS",
    # The appointment's word for in progress, as some job records carry it.
    AppointmentStatus.WORKING: "INSTALL_IN_PROGRESS",
    JobStatus.COMPLETED: "INSTALL_COMPLETE",
}


class StageConfigError(ValueError):
    """A configured pipeline or stage name does not exist in the GHL location."""


def status_of(stage_key: str) -> str:
    return STATUS.get(stage_key, "open")


@dataclass(frozen=True)
class StageMap:
    """Stage key -> (pipeline id, stage id) for one location, and the way back."""

    stages: dict[str, tuple[str, str]]
    keys_by_stage_id: dict[str, str]

    def ids(self, key: str) -> tuple[str, str]:
        return self.stages[key]

    def key_of(self, stage_id: str | None) -> str | None:
        return self.keys_by_stage_id.get(stage_id or "")


def _find(items: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    wanted = name.strip().lower()
    return next((i for i in items if str(i.get("name", "")).strip().lower() == wanted), None)


def resolve_stages(pipelines: list[dict[str, Any]], config: IntegrationSettings) -> StageMap:
    """Resolve configured names (case-insensitive) to ids; a missing name raises, naming it
    and the setting that holds it."""
    stages: dict[str, tuple[str, str]] = {}
    plan = (
        (
            "GHL_SALES_PIPELINE",
            config.ghl_sales_pipeline,
            "GHL_SALES_STAGES",
            config.ghl_sales_stages,
        ),
        (
            "GHL_INSTALL_PIPELINE",
            config.ghl_install_pipeline,
            "GHL_INSTALL_STAGES",
            config.ghl_install_stages,
        ),
    )
    for pipeline_setting, pipeline_name, stages_setting, names in plan:
        pipeline = _find(pipelines, pipeline_name)
        if pipeline is None:
            known = ", ".join(repr(p.get("name")) for p in pipelines) or "none"
            raise StageConfigError(
                f"{pipeline_setting}: pipeline {pipeline_name!r} not found in GHL (has {known})"
            )
        for key, stage_name in names.items():
            stage = _find(pipeline.get("stages") or [], stage_name)
            if stage is None:
                raise StageConfigError(
                    f"{stages_setting}: stage {stage_name!r} ({key}) not found in pipeline "
                    f"{pipeline_name!r}"
                )
            stages[key] = (pipeline["id"], stage["id"])
    return StageMap(stages, {stage_id: key for key, (_, stage_id) in stages.items()})
