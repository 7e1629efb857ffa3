"""All configuration of the platform, read from the environment and `.env`.

Every setting has one name (the environment variable, upper-cased field name) and one type. A bad
value stops start-up with a message that names the variable, never with a traceback from deep
inside a client. Secrets are `SecretStr`, so printing a `Settings` never shows them.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class SettingsError(ValueError):
    """A configuration value is missing or wrong; the message names the variable."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


class Settings(BaseSettings):
    """Configuration of every part of Perfect Catch. Field `x_y` is environment variable `X_Y`."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        env_ignore_empty=True,
    )

    # --- storage -------------------------------------------------------------------------------
    database_url: str | None = Field(
        None,
        description="PostgreSQL URL of the warehouse. Unset: an embedded server under "
        "PERFECT_CATCH_HOME is started and shared by every process.",
    )
    perfect_catch_home: Path = Field(
        Path(".perfect_catch"),
        description="Folder for the embedded PostgreSQL, the Dagster instance and local state.",
    )
    dagster_home: Path | None = Field(
        None, description="Dagster instance folder; defaults to PERFECT_CATCH_HOME/dagster."
    )

    # --- ServiceTitan --------------------------------------------------------------------------
    st_api_url: str = Field(
        "https://api.servicetitan.io", description="ServiceTitan API host root."
    )
    st_auth_url: str = Field(
        "https://auth.servicetitan.io", description="ServiceTitan OAuth host root."
    )
    st_client_id: str = Field("", description="ServiceTitan app client id.")
    st_client_secret: SecretStr = Field(SecretStr(""), description="ServiceTitan client secret.")
    st_app_key: SecretStr = Field(SecretStr(""), description="ServiceTitan `ST-App-Key` header.")
    st_tenant_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Comma-separated ServiceTitan tenant ids to sync."
    )
    st_timezone: str = Field(
        "America/New_York", description="The tenant's timezone: daily full refresh runs at 02:00."
    )
    st_page_size: int = Field(5000, ge=1, le=5000, description="Records per export page.")
    st_incremental_cron: str = Field(
        "*/5 * * * *", description="Cron of the incremental ServiceTitan sync."
    )
    st_event_sync_interval_seconds: int = Field(
        0,
        ge=0,
        description="Seconds between syncs of the entities that raise events (customers, jobs, "
        "estimates, invoices, payments, appointments); 0 leaves them to ST_INCREMENTAL_CRON. "
        "30 gives events within about a minute.",
    )
    st_full_refresh_cron: str = Field(
        "0 2 * * *", description="Cron of the daily full refresh, in ST_TIMEZONE."
    )
    dbt_marts_cron: str = Field(
        "4-59/15 * * * *",
        description="Cron of the rebuild of the dbt marts (reporting tables); event models "
        "rebuild after every sync, staging views only when their SQL changes. The default "
        "minutes (4, 19, 34, 49) start no other background run (see README, Cadences).",
    )
    http_timeout_seconds: float = Field(60.0, gt=0, description="Timeout of one API request.")
    http_max_retries: int = Field(8, ge=0, description="Retries of one API request.")

    # --- GoHighLevel ---------------------------------------------------------------------------
    ghl_api_url: str = Field(
        "https://services.leadconnectorhq.com", description="GoHighLevel API host root."
    )
    ghl_token: SecretStr = Field(
        SecretStr(""), description="GoHighLevel private integration token."
    )
    ghl_location_id: str = Field("", description="GoHighLevel location (sub-account) id.")

    # --- CallRail ------------------------------------------------------------------------------
    callrail_api_url: str = Field("https://api.callrail.com", description="CallRail API host root.")
    callrail_api_key: SecretStr = Field(SecretStr(""), description="CallRail API key.")
    callrail_account_id: str = Field("", description="CallRail account id.")

    # --- messaging -----------------------------------------------------------------------------
    twilio_api_url: str = Field("https://api.twilio.com", description="Twilio API host root.")
    twilio_account_sid: str = Field("", description="Twilio account SID.")
    twilio_auth_token: SecretStr = Field(SecretStr(""), description="Twilio auth token.")
    twilio_from_number: str = Field("", description="Twilio sender number, E.164.")
    sendgrid_api_url: str = Field("https://api.sendgrid.com", description="SendGrid API host root.")
    sendgrid_api_key: SecretStr = Field(SecretStr(""), description="SendGrid API key.")
    sendgrid_from_email: str = Field("", description="Sender address of emails.")

    # --- Claude --------------------------------------------------------------------------------
    anthropic_api_key: SecretStr = Field(SecretStr(""), description="Anthropic API key.")
    anthropic_base_url: str = Field(
        "https://api.anthropic.com", description="Anthropic API host root."
    )
    anthropic_model: str = Field("claude-sonnet-5", description="Model used by agent steps.")

    schedules_default_on: bool = Field(
        False, description="Start schedules and sensors switched on (the demo does)."
    )

    # --- misc ----------------------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level of the CLI and services."
    )
    phone_default_region: str = Field(
        "US",
        description="Region (ISO 3166 code) a phone number without a country code is read in; "
        "a North American one (US, CA, ...), as the warehouse's SQL reads such numbers so too.",
    )

    @field_validator("st_tenant_ids", mode="before")
    @classmethod
    def _tenant_ids(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("st_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("phone_default_region")
    @classmethod
    def _phone_region(cls, value: str) -> str:
        region = value.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown phone region {value!r} (an ISO 3166 code such as US)")
        if phonenumbers.country_code_for_region(region) != 1:
            raise ValueError(
                f"phone region {value!r} is not North American (country code 1), the only kind "
                "the warehouse's SQL rule (integrations.e164) reads"
            )
        return region

    @field_validator(
        "st_api_url",
        "st_auth_url",
        "ghl_api_url",
        "callrail_api_url",
        "twilio_api_url",
        "sendgrid_api_url",
        "anthropic_base_url",
    )
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("postgresql", "postgres://")):
            raise ValueError("must be a PostgreSQL URL (postgresql://user:pass@host/db)")
        return value

    @property
    def home(self) -> Path:
        return self.perfect_catch_home.expanduser().resolve()

    @property
    def resolved_dagster_home(self) -> Path:
        return (self.dagster_home or self.home / "dagster").expanduser().resolve()


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        name = "_".join(str(part) for part in item["loc"] if isinstance(part, str)).upper()
        # The offending value is left out on purpose: it may be a secret.
        lines.append(f"{name or 'settings'}: {item['msg']}")
    return "invalid configuration: " + "; ".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning a validation failure into a `SettingsError` naming the variable."""
    env_file = os.environ.get("PERFECT_CATCH_ENV_FILE", ".env")
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[arg-type,call-arg]
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call `get_settings.cache_clear()`)."""
    return load_settings()
