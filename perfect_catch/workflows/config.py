"""Settings of the workflow engine, read from the same environment and `.env` as the rest.

Placeholders a template may use (business phone, review link, ...) are configuration rather than
code because they differ per business and change without a release; the sensor interval and the
agent's bounds are here so an operator can tune them per deployment.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from perfect_catch.settings import SettingsError

WORKFLOWS_DIR = Path(__file__).parent / "library"


class WorkflowSettings(BaseSettings):
    """Workflow engine options. Field `x_y` is environment variable `X_Y`."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        env_ignore_empty=True,
    )

    business_name: str = Field("Perfect Catch", description="Business name used in messages.")
    business_phone: str = Field(
        "(480) 555-0100", description="Phone number customers are told to call."
    )
    review_link: str = Field(
        "https://g.page/r/perfect-catch/review", description="Where customers leave a review."
    )
    estimate_discount_percent: int = Field(
        10, ge=0, le=100, description="Discount offered by the last estimate follow-up."
    )
    estimate_discount_days: int = Field(
        7, ge=1, description="Days the last follow-up's discount stays valid (its deadline)."
    )
    review_received_tag: str = Field(
        "review received", description="GHL contact tag that marks a review as received."
    )
    workflows_dir: Path = Field(
        WORKFLOWS_DIR, description="Folder of the workflow YAML definitions."
    )
    workflow_sensor_interval_seconds: int = Field(
        10, ge=5, description="Minimum seconds between evaluations of the workflow sensors."
    )
    workflow_event_batch: int = Field(
        500, ge=1, le=10_000, description="Events read per sensor evaluation."
    )
    workflow_due_batch: int = Field(
        200, ge=1, le=10_000, description="Due instances resumed per sensor evaluation."
    )
    workflow_max_steps_per_run: int = Field(
        25, ge=1, description="Steps one run of an instance executes before yielding."
    )
    workflow_skip_backfill: bool = Field(
        True, description="Do not start workflows for events flagged as history (is_backfill)."
    )
    webhook_timeout_seconds: float = Field(
        15.0, gt=0, description="Timeout of a webhook step's POST."
    )
    agent_max_turns: int = Field(
        6, ge=1, le=50, description="Model turns an agent step may take before it is stopped."
    )
    agent_max_tokens: int = Field(
        1024, ge=64, le=32_000, description="max_tokens of each agent model call."
    )
    agent_max_total_tokens: int = Field(
        20_000, ge=256, description="Input plus output tokens an agent step may spend in all."
    )


def load_workflow_settings(**overrides: object) -> WorkflowSettings:
    """Read the settings; a bad value raises `SettingsError` naming the variable."""
    env_file = os.environ.get("PERFECT_CATCH_ENV_FILE", ".env")
    try:
        return WorkflowSettings(_env_file=env_file, **overrides)  # type: ignore[arg-type,call-arg]
    except ValidationError as error:
        detail = "; ".join(
            "_".join(str(p) for p in item["loc"] if isinstance(p, str)).upper() + f": {item['msg']}"
            for item in error.errors()
        )
        raise SettingsError(f"invalid configuration: {detail}") from None


@functools.cache
def get_workflow_settings() -> WorkflowSettings:
    """Process-wide workflow settings (cached; tests call `cache_clear()`)."""
    return load_workflow_settings()
