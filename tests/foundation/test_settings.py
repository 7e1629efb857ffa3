"""Settings: typed, from the environment, and a bad value names its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfect_catch.settings import WORKFLOWS_DIR, SettingsError, load_settings


def test_tenant_ids_parse_from_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ST_TENANT_IDS", "1000001, 1000002")
    assert load_settings().st_tenant_ids == [1000001, 1000002]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ST_TENANT_IDS", "12,abc"),
        ("ST_API_URL", "ftp://example.com"),
        ("ST_TIMEZONE", "Mars/Olympus"),
        ("ST_PAGE_SIZE", "9000"),
        ("HTTP_TIMEOUT_SECONDS", "-1"),
        ("DATABASE_URL", "mysql://root@localhost/db"),
        ("LOG_LEVEL", "LOUD"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert variable in str(caught.value)


def test_secret_value_never_in_error_or_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ST_CLIENT_SECRET", "very-secret-value")
    monkeypatch.setenv("ST_PAGE_SIZE", "0")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "very-secret-value" not in str(caught.value)
    monkeypatch.setenv("ST_PAGE_SIZE", "100")
    assert "very-secret-value" not in repr(load_settings())


def test_cli_reports_bad_setting_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from perfect_catch.cli import app

    monkeypatch.setenv("ST_TIMEZONE", "Nowhere/Land")
    result = CliRunner().invoke(app, ["db", "current"])
    assert result.exit_code == 2
    assert "ST_TIMEZONE" in result.output
    assert "Traceback" not in result.output


def test_section_settings_come_from_their_flat_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "MESSAGING_WORKERS=7\n"
        "BUSINESS_PHONE=(602) 555-0100\n"
        'GHL_SALES_STAGES={"JOB_SOLD": "Won"}\n'
        "INSTALL_JOB_TYPES=%install%, %new build%\n"
    )
    monkeypatch.setenv("PERFECT_CATCH_ENV_FILE", str(env_file))
    monkeypatch.setenv("MESSAGING_CAP_PER_DAY", "9")
    monkeypatch.setenv("messaging_workers", "3")  # the environment wins over `.env`
    monkeypatch.setenv("MESSAGING_QUIET_HOURS_CHANNELS", "SMS, email")
    monkeypatch.setenv("MESSAGING_TENANT_TIMEZONES", '{"1001": "America/Phoenix"}')
    monkeypatch.setenv("REVIEW_LINK", "")  # empty: the default
    settings = load_settings()
    assert settings.messaging.messaging_cap_per_day == 9
    assert settings.messaging.messaging_workers == 3
    assert settings.messaging.messaging_quiet_hours_channels == ["sms", "email"]
    assert settings.messaging.messaging_tenant_timezones == {1001: "America/Phoenix"}
    assert settings.workflows.business_phone == "(602) 555-0100"
    assert settings.workflows.review_link == "https://g.page/r/perfect-catch/review"
    assert settings.integrations.ghl_sales_stages["JOB_SOLD"] == "Won"
    assert settings.integrations.ghl_sales_stages["NEW_LEAD"] == "New Lead"
    assert settings.integrations.install_job_types == ["%install%", "%new build%"]


def test_overrides_are_named_like_the_variables() -> None:
    settings = load_settings(messaging_cap_per_day=1, business_name="Acme", st_page_size=10)
    assert settings.messaging.messaging_cap_per_day == 1
    assert settings.messaging.messaging_cap_per_week == 10
    assert settings.workflows.business_name == "Acme"
    assert settings.st_page_size == 10
    whole = load_settings(messaging={"messaging_workers": 2}, messaging_cap_per_day=0)
    assert (whole.messaging.messaging_workers, whole.messaging.messaging_cap_per_day) == (2, 0)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MESSAGING_CAP_PER_DAY", "-1"),
        ("MESSAGING_QUIET_HOURS_CHANNELS", "fax"),
        ("MESSAGING_TENANT_TIMEZONES", '{"1001": "Mars/Olympus"}'),
        ("GHL_SALES_STAGES", "not json"),
        ("GHL_SALES_STAGES", '{"SOMETHING_ELSE": "x"}'),
        ("WORKFLOW_EVENT_BATCH", "0"),
        ("WEBHOOK_PUBLIC_URL", "ftp://example.com"),
    ],
)
def test_bad_section_value_names_the_flat_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert f"{variable}:" in message
    assert "MESSAGING_MESSAGING" not in message and "INTEGRATIONS_" not in message


def test_section_secret_never_in_error_or_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GHL_WEBHOOK_PUBLIC_KEY", "very-secret-key")
    monkeypatch.setenv("MESSAGING_WORKERS", "0")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "very-secret-key" not in str(caught.value)
    monkeypatch.setenv("MESSAGING_WORKERS", "2")
    settings = load_settings()
    assert "very-secret-key" not in repr(settings)
    assert settings.messaging.ghl_webhook_public_key.get_secret_value() == "very-secret-key"


def test_workflows_dir_defaults_to_the_shipped_library() -> None:
    folder = load_settings().workflows.workflows_dir
    assert folder == WORKFLOWS_DIR
    assert (folder / "estimate_followup.yaml").is_file()
