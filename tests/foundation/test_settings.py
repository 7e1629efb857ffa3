"""Settings: typed, from the environment, and a bad value names its variable."""

from __future__ import annotations

import pytest

from perfect_catch.settings import SettingsError, load_settings


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
