"""All configuration of the platform, read from the environment and `.env`: one `Settings`.

Every setting has one name (the environment variable, upper-cased field name) and one type. A bad
value stops start-up with a message that names the variable, never with a traceback from deep
inside a client. Secrets are `SecretStr`, so printing a `Settings` never shows them.

What belongs to one part of the platform is grouped in a section (`settings.messaging`,
`settings.workflows`, `settings.integrations`) while its variables stay flat
(`MESSAGING_CAP_PER_DAY`, not `MESSAGING__MESSAGING_CAP_PER_DAY`): operators name a setting the
same way whatever section the code keeps it in. Entry points build the settings once (the CLI,
the Dagster definitions, the MCP and webhook servers) and pass them down; library code never
reads the environment itself.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal, cast, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)


class SettingsError(ValueError):
    """A configuration value is missing or wrong; the message names the variable."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


#: The channels a message goes out on.
Channel = Literal["sms", "email"]
#: The workflow definitions shipped with the package (the default of WORKFLOWS_DIR).
WORKFLOWS_DIR = Path(__file__).parent / "workflows" / "library"

#: GHL stages as the code knows them, in pipeline order; GHL_SALES_STAGES and GHL_INSTALL_STAGES
#: name them per account, and the names are resolved to ids through the pipelines API at run time.
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


class MessagingSettings(BaseModel):
    """When and whether a message goes out (quiet hours, caps, retries) and what the webhook
    receiver needs to verify callers; provider hosts, credentials and senders are top-level
    (TWILIO_*, SENDGRID_*). Field `x_y` is environment variable `X_Y`."""

    model_config = ConfigDict(extra="forbid")

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
        3,
        ge=0,
        description="Messages per customer per recipient's day (local midnight to midnight); "
        "0 disables the cap.",
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
    webhook_max_body_bytes: int = Field(
        1_048_576,
        ge=1024,
        description="Largest request body the webhook receiver reads; a larger one is refused "
        "with 413 before it is buffered (Twilio and SendGrid posts are far smaller).",
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


class WorkflowSettings(BaseModel):
    """Workflow engine options. Template placeholders (business phone, review link, ...) are
    configuration because they differ per business and change without a release; the sensor
    interval and the agent's bounds so an operator can tune them. Field `x_y` is environment
    variable `X_Y`."""

    model_config = ConfigDict(extra="forbid")

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


class IntegrationSettings(BaseModel):
    """GHL push/pull and CallRail options. The stage mapping is configuration because every GHL
    account names its pipelines and stages its own way. Field `x_y` is environment variable
    `X_Y`."""

    model_config = ConfigDict(extra="forbid")

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
    callrail_event_sync_interval_seconds: int = Field(
        0,
        ge=0,
        description="Seconds between CallRail syncs that also build the event models and start "
        "workflows (the missed-call text-back); 0 leaves calls to CALLRAIL_SYNC_CRON. 20 texts a "
        "missed caller within about a minute.",
    )

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


class SupplierSettings(BaseModel):
    """Supplier price refresh (Pool360, CED, Home Depot) and pricebook cost updates. A supplier
    takes part when its credentials are set. Field `x_y` is environment variable `X_Y`."""

    model_config = ConfigDict(extra="forbid")

    pool360_url: str = Field("https://www.pool360.com", description="Pool360 site root.")
    pool360_username: str = Field("", description="Pool360 account user name.")
    pool360_password: SecretStr = Field(SecretStr(""), description="Pool360 account password.")
    ced_url: str = Field("https://www.cedonline.com", description="CED site root.")
    ced_username: str = Field("", description="CED account user name.")
    ced_password: SecretStr = Field(SecretStr(""), description="CED account password.")
    homedepot_api_url: str = Field(
        "https://api.homedepot.com", description="Home Depot product API root."
    )
    homedepot_api_key: SecretStr = Field(SecretStr(""), description="Home Depot API key.")
    homedepot_store_id: str = Field(
        "", description="Home Depot store whose stock is read (empty: the API's default)."
    )
    supplier_requests_per_second: float = Field(
        0.5,
        gt=0,
        le=50,
        description="Most requests per second sent to one supplier (robots.txt's Crawl-delay "
        "can only slow it further).",
    )
    supplier_fuzzy_min_score: float = Field(
        90.0,
        ge=50,
        le=100,
        description="Least rapidfuzz score (0-100) of a description match between a pricebook "
        "material and a supplier part; matches by part number do not need it.",
    )
    supplier_mapping_overrides: Path | None = Field(
        None,
        description="CSV (material_id,vendor,sku) of material-to-supplier-part matches that win "
        "over every automatic match; an empty sku unmaps a material at that vendor.",
    )
    supplier_cost_change_threshold_pct: float = Field(
        5.0,
        ge=0,
        description="Least difference (percent of the pricebook cost) for `suppliers propose` "
        "to propose a cost change.",
    )
    supplier_refresh_cron: str = Field(
        "30 5 * * *", description="Cron of the daily supplier price refresh."
    )

    @field_validator("pool360_url", "ced_url", "homedepot_api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value.rstrip("/")


class MonitoringSettings(BaseModel):
    """Who hears about incidents and how hard the platform tries to heal on its own. Operators
    are alerted once when an incident opens and once when it resolves. Field `x_y` is
    environment variable `X_Y`."""

    model_config = ConfigDict(extra="forbid")

    alert_emails: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated operator email addresses alerted through the outbox.",
    )
    alert_sms: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated operator phone numbers alerted by SMS through the outbox.",
    )
    alert_slack_webhook_url: SecretStr = Field(
        SecretStr(""), description="Slack incoming-webhook URL alerts are posted to."
    )
    alert_tenant_id: int = Field(
        0, ge=0, description="Tenant id the outbox rows of operator alerts are filed under."
    )
    monitoring_rerun_base_seconds: float = Field(
        60.0, gt=0, description="First wait before a stale sync is re-run; doubles each attempt."
    )
    monitoring_rerun_max_seconds: float = Field(
        3600.0, gt=0, description="Longest wait between two automatic re-runs of one sync."
    )
    monitoring_rerun_max_attempts: int = Field(
        5, ge=0, description="Automatic re-runs per incident before it only waits for a person."
    )
    monitoring_workflow_stuck_seconds: float = Field(
        240.0, gt=0, description="A due workflow instance untouched this long is resumed."
    )
    monitoring_dispatcher_lag_seconds: float = Field(
        900.0, gt=0, description="Oldest due outbox message older than this: unhealthy."
    )
    monitoring_claude_diagnosis: bool = Field(
        True, description="Ask Claude for a second diagnosis when ANTHROPIC_API_KEY is set."
    )

    @field_validator("alert_emails", "alert_sms", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("alert_slack_webhook_url")
    @classmethod
    def _webhook(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        if raw and not raw.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value


def _complete(value: dict[str, str], defaults: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(value) - set(defaults))
    if unknown:
        raise ValueError(f"unknown stage keys {unknown}; known: {', '.join(defaults)}")
    return {**defaults, **value}


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
    st_tenants: Annotated[list[int], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated ServiceTitan tenant ids, each with its own credentials in "
        "ST_<ID>_CLIENT_ID, ST_<ID>_CLIENT_SECRET and optionally ST_<ID>_APP_KEY (a tenant "
        "without them uses the shared ST_CLIENT_ID/ST_CLIENT_SECRET/ST_APP_KEY). Added to "
        "ST_TENANT_IDS.",
    )
    st_tenants_file: Path | None = Field(
        None,
        description="YAML file of tenants (`tenants: [{id, client_id, client_secret, app_key}]`), "
        "read again by the tenants sensor: a tenant added to it is synced without a restart.",
    )
    st_tenant_secret_prefix: str = Field(
        "",
        description="On Kubernetes: a tenant's runs load the Secret named this prefix plus the "
        "tenant id (holding its ST_<ID>_* variables) and no other tenant's. Empty: off.",
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

    mcp_http_token: SecretStr = Field(
        SecretStr(""),
        description="Bearer token every request to the MCP server over HTTP must carry "
        "(`perfect-catch mcp --http`); required when it listens beyond 127.0.0.1.",
    )

    schedules_default_on: bool = Field(
        False, description="Start schedules and sensors switched on (the demo does)."
    )

    # --- misc ----------------------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level of the CLI and services."
    )

    # --- sections (their variables are flat: see `_FlatSections`) --------------------------------
    messaging: MessagingSettings = Field(default_factory=MessagingSettings)
    workflows: WorkflowSettings = Field(default_factory=WorkflowSettings)
    integrations: IntegrationSettings = Field(default_factory=IntegrationSettings)
    suppliers: SupplierSettings = Field(default_factory=SupplierSettings)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The usual order (arguments, environment, `.env`), each read for the sections too."""
        environment = cast(EnvSettingsSource, env_settings).env_vars
        env_file = cast(EnvSettingsSource, dotenv_settings).env_vars
        return (
            init_settings,
            env_settings,
            _FlatSections(settings_cls, environment),
            dotenv_settings,
            _FlatSections(settings_cls, env_file),
            file_secret_settings,
        )

    @field_validator("st_tenant_ids", "st_tenants", mode="before")
    @classmethod
    def _tenant_ids(cls, value: object) -> object:
        return _split_csv(value)

    @model_validator(mode="after")
    def _all_tenants(self) -> Settings:
        """ST_TENANTS adds to ST_TENANT_IDS, so every reader of `st_tenant_ids` sees them."""
        if self.st_tenants:
            self.st_tenant_ids = list(dict.fromkeys([*self.st_tenant_ids, *self.st_tenants]))
        return self

    @field_validator("st_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

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


#: The sections of `Settings`, by field name.
SECTIONS: dict[str, type[BaseModel]] = {
    "messaging": MessagingSettings,
    "workflows": WorkflowSettings,
    "integrations": IntegrationSettings,
    "suppliers": SupplierSettings,
    "monitoring": MonitoringSettings,
}


def _decode(field: FieldInfo, raw: str) -> object:
    """A section variable's value as the field takes it: JSON for objects and lists unless the
    field parses its own text (`NoDecode`, e.g. comma-separated lists)."""
    if get_origin(field.annotation) not in (dict, list) or NoDecode in field.metadata:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw  # validation then fails with a message naming the variable


class _FlatSections(PydanticBaseSettingsSource):
    """Reads each section's fields from variables named like the fields themselves.

    pydantic-settings would look for `MESSAGING__MESSAGING_CAP_PER_DAY`; the platform's
    variables predate the sections and stay flat, so this source maps them into the sections.
    `variables` are those the environment (or `.env`) source read, case-folded and with empty
    values left out, so both follow the same rules as the top-level fields.
    """

    def __init__(
        self, settings_cls: type[BaseSettings], variables: Mapping[str, str | None]
    ) -> None:
        super().__init__(settings_cls)
        self.variables = variables

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # the sections are read whole, in __call__

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for section, model in SECTIONS.items():
            values = {
                name: _decode(field, raw)
                for name, field in model.model_fields.items()
                if (raw := self.variables.get(name)) is not None
            }
            if values:
                found[section] = values
        return found


def _variable(location: tuple[int | str, ...]) -> str:
    """The environment variable an error location stands for (a section's field is flat)."""
    names = [part for part in location if isinstance(part, str)]
    if len(names) > 1 and names[0] in SECTIONS:
        names = names[1:]
    return names[0].upper() if names else "settings"


def _describe(error: ValidationError) -> str:
    # The offending value is left out on purpose: it may be a secret.
    lines = [f"{_variable(item['loc'])}: {item['msg']}" for item in error.errors()]
    return "invalid configuration: " + "; ".join(lines)


def _nest(overrides: Mapping[str, object]) -> dict[str, object]:
    """Overrides by variable name (`messaging_cap_per_day=1`) placed in their sections."""
    nested: dict[str, object] = {}
    flat: dict[str, dict[str, object]] = {}
    for name, value in overrides.items():
        section = next((s for s, model in SECTIONS.items() if name in model.model_fields), None)
        if section is None:
            nested[name] = value
        else:
            flat.setdefault(section, {})[name] = value
    for section, values in flat.items():
        given = nested.get(section) or {}
        if isinstance(given, BaseModel):
            given = dict(given)
        nested[section] = {**cast(Mapping[str, object], given), **values}
    return nested


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning a validation failure into a `SettingsError` naming the variable.

    `overrides` win over the environment and `.env`; they are named like the variables, also
    for a section's settings (`load_settings(messaging_cap_per_day=1)`), or give a section whole
    (`messaging={...}`).
    """
    env_file = os.environ.get("PERFECT_CATCH_ENV_FILE", ".env")
    try:
        return Settings(_env_file=env_file, **_nest(overrides))  # type: ignore[arg-type,call-arg]
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None


@functools.cache
def get_settings() -> Settings:
    """The settings of this process, read on first use: for entry points, which build them once
    and pass them down. Code that needs other settings builds them with `load_settings`."""
    return load_settings()
