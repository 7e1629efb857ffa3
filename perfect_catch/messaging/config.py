"""Settings of outbound messaging, read from the same environment and `.env` as `Settings`.

Provider hosts, credentials and the sender come from `perfect_catch.settings` (TWILIO_*,
SENDGRID_*, ST_TIMEZONE); this class holds what governs *when* and *whether* a message goes out
(quiet hours, frequency caps, retries) and what the webhook receiver needs to verify callers.
"""

from __future__ import annotations

import functools
import os
from datetime import time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from perfect_catch.settings import SettingsError

Channel = Literal["sms", "email"]


class MessagingSettings(BaseSettings):
    """Messaging options. Field `x_y` is environment variable `X_Y`."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        env_ignore_empty=True,
    )

    messaging_quiet_hours_start: time = Field(
        time(21, 0), description="Local time (customer timezone) from which sending waits."
    )
    messaging_quiet_hours_end: time = Field(
        time(8, 0),
        description="Local time (customer timezone) at which sending resumes; the same as the "
        "start switches quiet hours off.",
    )
    messaging_quiet_hours_channels: Annotated[list[Channel], NoDecode] = Field(
        default_factory=lambda: ["sms"],
        description="Comma-separated channels quiet hours apply to (sms, email).",
    )
    messaging_tenant_timezones: dict[int, str] = Field(
        default_factory=dict,
        description="JSON object: ST tenant id -> IANA timezone; others use ST_TIMEZONE.",
    )
    messaging_cap_per_day: int = Field(
        3, ge=0, description="Messages per customer in any 24 hours; 0 disables the cap."
    )
    messaging_cap_per_week: int = Field(
        10, ge=0, description="Messages per customer in any 7 days; 0 disables the cap."
    )
    messaging_max_attempts: int = Field(
        5, ge=1, description="Provider attempts of one message before it is reported failed."
    )
    messaging_retry_base_seconds: float = Field(
        60.0, gt=0, description="First retry delay; doubles with each attempt."
    )
    messaging_retry_max_seconds: float = Field(
        3600.0, gt=0, description="Longest delay between two attempts."
    )
    messaging_claim_timeout_seconds: float = Field(
        300.0,
        gt=0,
        description="A row left 'sending' longer than this is reconciled with the provider.",
    )
    messaging_batch_size: int = Field(200, ge=1, description="Rows one dispatch pass claims.")
    messaging_workers: int = Field(
        4, ge=1, le=32, description="Provider calls one dispatch pass makes in parallel."
    )
    messaging_provider_timeout_seconds: float = Field(
        30.0, gt=0, description="Timeout of one provider request."
    )
    webhook_public_url: str = Field(
        "",
        description="Public base URL of the webhook receiver (status callbacks are sent there "
        "and Twilio signatures are computed over it). Empty: no status callbacks are asked for.",
    )
    sendgrid_webhook_public_key: SecretStr = Field(
        SecretStr(""),
        description="SendGrid Event Webhook verification key (base64 ECDSA public key).",
    )
    ghl_webhook_public_key: SecretStr = Field(
        SecretStr(""),
        description="GoHighLevel webhook public key (PEM) used to verify `x-wh-signature`.",
    )

    @field_validator("messaging_quiet_hours_channels", mode="before")
    @classmethod
    def _channels(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @field_validator("messaging_tenant_timezones")
    @classmethod
    def _timezones(cls, value: dict[int, str]) -> dict[int, str]:
        for tenant, name in value.items():
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown timezone {name!r} for tenant {tenant}") from exc
        return value

    @field_validator("webhook_public_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value.rstrip("/")


def load_messaging_settings(**overrides: object) -> MessagingSettings:
    """Read the settings; a bad value raises `SettingsError` naming the variable."""
    env_file = os.environ.get("PERFECT_CATCH_ENV_FILE", ".env")
    try:
        return MessagingSettings(_env_file=env_file, **overrides)  # type: ignore[arg-type,call-arg]
    except ValidationError as error:
        parts = []
        for item in error.errors():
            name = "_".join(str(p) for p in item["loc"] if isinstance(p, str)).upper()
            parts.append(f"{name or 'settings'}: {item['msg']}")
        raise SettingsError("invalid configuration: " + "; ".join(parts)) from None


@functools.cache
def get_messaging_settings() -> MessagingSettings:
    """Process-wide messaging settings (cached; tests call `cache_clear()`)."""
    return load_messaging_settings()
