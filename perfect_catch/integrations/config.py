"""Settings of the GHL and CallRail integrations, read from the same environment and `.env`.

The stage mapping is configuration because every GHL account names its pipelines and stages its
own way: the code speaks of stage keys (CONTACTED, JOB_SOLD, ...) and resolves the configured
names to ids through the pipelines API at run time, so no GHL id is ever written into the code.
"""

from __future__ import annotations

import functools
import os
from typing import Annotated

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from perfect_catch.settings import SettingsError

SALES_STAGE_KEYS: tuple[str, ...] = (
    "NEW_LEAD",
    "CONTACTED",
    "APPOINTMENT_SCHEDULED",
    "APPOINTMENT_COMPLETED_PROPOSAL_SENT",
    "ESTIMATE_FOLLOWUP",
    "ESTIMATE_LOST",
    "JOB_SOLD",
)
INSTALL_STAGE_KEYS: tuple[str, ...] = (
    "INSTALL_PENDING",
    "INSTALL_SCHEDULED",
    "INSTALL_IN_PROGRESS",
    "INSTALL_COMPLETE",
)
DEFAULT_SALES_STAGES: dict[str, str] = {
    "NEW_LEAD": "New Lead",
    "CONTACTED": "Contacted",
    "APPOINTMENT_SCHEDULED": "Appointment Scheduled",
    "APPOINTMENT_COMPLETED_PROPOSAL_SENT": "Appointment Completed / Proposal Sent",
    "ESTIMATE_FOLLOWUP": "Estimate Follow-up",
    "ESTIMATE_LOST": "Estimate Lost",
    "JOB_SOLD": "Job Sold",
}
DEFAULT_INSTALL_STAGES: dict[str, str] = {
    "INSTALL_PENDING": "Sold - Pending Install",
    "INSTALL_SCHEDULED": "Install Scheduled",
    "INSTALL_IN_PROGRESS": "Install In Progress",
    "INSTALL_COMPLETE": "Install Complete",
}


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class IntegrationSettings(BaseSettings):
    """GHL push/pull and CallRail options. Field `x_y` is environment variable `X_Y`."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        env_ignore_empty=True,
    )

    ghl_sales_pipeline: str = Field("Sales Pipeline", description="Name of the sales pipeline.")
    ghl_sales_stages: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_SALES_STAGES),
        description="JSON object: sales stage key -> stage name in GHL.",
    )
    ghl_install_pipeline: str = Field(
        "Install Pipeline", description="Name of the pipeline sold install jobs move to."
    )
    ghl_install_stages: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_INSTALL_STAGES),
        description="JSON object: install stage key -> stage name in GHL.",
    )
    install_business_units: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["%install%", "Pool Construction"],
        description="Comma-separated ILIKE patterns of ST business unit names whose jobs are "
        "install work: they raise install_job_created and move to the GHL install pipeline.",
    )
    install_job_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["%install%"],
        description="Comma-separated ILIKE patterns of ST job type names whose jobs are install "
        "work (same effect as INSTALL_BUSINESS_UNITS).",
    )
    ghl_followup_after_days: int = Field(
        7, ge=1, description="Age of an open estimate that moves it to ESTIMATE_FOLLOWUP."
    )
    ghl_st_customer_id_field: str = Field(
        "contact.st_customer_id",
        description="Key (or id) of the GHL contact custom field holding the ST customer id.",
    )
    ghl_push_lookback_days: int = Field(
        30, ge=1, description="Reconciliation looks at ST records changed in this many days."
    )
    ghl_pull_to_st: bool = Field(
        False, description="Create ST customers for GHL contacts tagged as customers."
    )
    ghl_customer_tag: str = Field("customer", description="GHL tag marking a contact a customer.")
    # Background runs start in different minutes (ServiceTitan on the 5s, GHL a minute after,
    # CallRail two, the GHL repair three, the dbt marts four): see README, Cadences.
    ghl_sync_cron: str = Field("1-59/5 * * * *", description="Cron of the GHL pull.")
    ghl_reconcile_cron: str = Field("3-59/30 * * * *", description="Cron of the ST->GHL repair.")
    callrail_trailing_days: int = Field(
        3, ge=0, description="Days of calls re-read every sync, to catch late changes."
    )
    callrail_initial_days: int = Field(
        365, ge=1, description="Days of calls read by the first sync."
    )
    callrail_sync_cron: str = Field("2-59/5 * * * *", description="Cron of the CallRail sync.")

    @field_validator("install_business_units", "install_job_types", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("ghl_sales_stages")
    @classmethod
    def _sales(cls, value: dict[str, str]) -> dict[str, str]:
        return _complete(value, DEFAULT_SALES_STAGES)

    @field_validator("ghl_install_stages")
    @classmethod
    def _install(cls, value: dict[str, str]) -> dict[str, str]:
        return _complete(value, DEFAULT_INSTALL_STAGES)


def _complete(value: dict[str, str], defaults: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(value) - set(defaults))
    if unknown:
        raise ValueError(f"unknown stage keys {unknown}; known: {', '.join(defaults)}")
    return {**defaults, **value}


def load_integration_settings(**overrides: object) -> IntegrationSettings:
    """Read the settings; a bad value raises `SettingsError` naming the variable."""
    env_file = os.environ.get("PERFECT_CATCH_ENV_FILE", ".env")
    try:
        return IntegrationSettings(_env_file=env_file, **overrides)  # type: ignore[arg-type,call-arg]
    except ValidationError as error:
        names = [
            "_".join(str(p) for p in item["loc"] if isinstance(p, str)).upper()
            for item in error.errors()
        ]
        messages = [item["msg"] for item in error.errors()]
        detail = "; ".join(f"{n}: {m}" for n, m in zip(names, messages, strict=True))
        raise SettingsError(f"invalid configuration: {detail}") from None


@functools.cache
def get_integration_settings() -> IntegrationSettings:
    """Process-wide integration settings (cached; tests call `cache_clear()`)."""
    return load_integration_settings()
