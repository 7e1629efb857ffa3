"""The rules alone: classification of real client errors, fingerprints by cause and scope,
scrubbing of every secret shape, and the freshness windows matched to the schedules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from perfect_catch.connectors.http import ApiError
from perfect_catch.connectors.servicetitan import ServiceTitanError
from perfect_catch.monitoring.classify import classify
from perfect_catch.monitoring.freshness import cron_interval, fail_window
from perfect_catch.monitoring.kinds import fingerprint
from perfect_catch.monitoring.scrub import Scrubber
from perfect_catch.settings import load_settings


def _st(status: int | None, title: str) -> ServiceTitanError:
    return ServiceTitanError(status, title, None, None, "GET", "/crm/v2/tenant/1/export/customers")


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (_st(400, "ServiceTitan rejected the client credentials (invalid_client)"), "auth_failed"),
        (_st(401, "Unauthorized"), "auth_failed"),
        (_st(429, "Too many requests, try again in 5 seconds."), "rate_limited"),
        (_st(503, "Service Unavailable"), "source_down"),
        (_st(None, "transport error (ConnectError: connection refused)"), "source_down"),
        (_st(None, "timed out (ReadTimeout, limit 60.0 s)"), "timeout"),
        (_st(None, "export response has no data list"), "schema_drift"),
        (KeyError("modifiedOn"), "schema_drift"),
        (RuntimeError("something odd"), "unknown"),
    ],
)
def test_the_rules_classify_client_errors(error: BaseException, kind: str) -> None:
    assert classify(error, "servicetitan").kind == kind


def test_the_auth_diagnosis_names_the_refused_credentials_and_the_variables() -> None:
    found = classify(_st(400, "rejected the client credentials (invalid_client)"), "servicetitan")
    assert "client id/secret was refused" in found.diagnosis
    assert "ST_CLIENT_ID/ST_CLIENT_SECRET" in found.suggested_fix


def test_a_typed_error_classifies_itself_through_its_cause_chain() -> None:
    class LayoutDrift(Exception):
        incident_kind = "schema_drift"

    try:
        try:
            raise LayoutDrift("the supplier renamed the price column")
        except LayoutDrift as inner:
            raise RuntimeError("price sync failed") from inner
    except RuntimeError as outer:
        assert classify(outer, "suppliers").kind == "schema_drift"
    # A declared kind wins over an HTTP status further down the chain.
    declared = ApiError(service="x", status=503, title="t", method="GET", path="/")
    declared.incident_kind = "auth_failed"  # type: ignore[attr-defined]
    assert classify(declared, "x").kind == "auth_failed"


def test_text_kept_by_dagster_is_classified_like_the_exception() -> None:
    text = (
        "ServiceTitanError: ServiceTitan POST /connect/token failed (HTTP 400): ServiceTitan "
        "rejected the client credentials (invalid_client); check ST_CLIENT_ID"
    )
    assert classify(text, "servicetitan").kind == "auth_failed"
    assert classify("ServiceTitanError: ... failed (HTTP 502): Bad Gateway", "x").kind == (
        "source_down"
    )


def test_fingerprints_are_the_cause_and_its_scope_never_the_text() -> None:
    # A source-wide cause is one fingerprint for every entity it stops.
    assert fingerprint("auth_failed", "servicetitan", "1", "jobs") == fingerprint(
        "auth_failed", "servicetitan", "1", "customers"
    )
    assert fingerprint("auth_failed", "servicetitan", "1", None) != fingerprint(
        "auth_failed", "servicetitan", "2", None
    )
    # A cause of one entity's own keeps the entity.
    assert fingerprint("schema_drift", "servicetitan", "1", "jobs") != fingerprint(
        "schema_drift", "servicetitan", "1", "customers"
    )
    with pytest.raises(ValueError, match="unknown incident kind"):
        fingerprint("oops", "servicetitan", None, None)


def test_every_configured_secret_and_secret_shape_is_scrubbed() -> None:
    settings = load_settings(
        st_client_secret="cs-very-secret-1",
        ghl_token="pit-ghl-token-2",
        alert_slack_webhook_url="https://hooks.slack.test/services/T/B/hook-token-3",
        database_url="postgresql://pc:db-password-4@db.example/pc",
    )
    scrub = Scrubber.from_settings(settings)
    text = (
        "client_secret cs-very-secret-1 / token pit-ghl-token-2 / "
        "https://hooks.slack.test/services/T/B/hook-token-3 / postgresql://pc:db-password-4@db "
        "/ Authorization: Bearer abcdefghijklmnop / password=hunter22 / "
        "https://user:pw123456@host/x / api_key: 'k-9876543'"
    )
    cleaned = scrub.text(text)
    for secret in (
        "cs-very-secret-1",
        "pit-ghl-token-2",
        "hook-token-3",
        "db-password-4",
        "abcdefghijklmnop",
        "hunter22",
        "pw123456",
        "k-9876543",
    ):
        assert secret not in cleaned
    assert "auth_failed:servicetitan" in scrub.text("auth_failed:servicetitan")


def test_freshness_windows_follow_the_schedules() -> None:
    assert cron_interval("*/5 * * * *") == timedelta(minutes=5)
    assert cron_interval("3-59/30 * * * *") == timedelta(minutes=30)
    assert cron_interval("0 2 * * *") == timedelta(days=1)
    settings = load_settings(st_incremental_cron="0 */4 * * *")
    assert fail_window("servicetitan", settings) == timedelta(hours=12)
    assert fail_window("gohighlevel", load_settings()) == timedelta(hours=1)
    assert fail_window("dbt", settings) is None
    with pytest.raises(ValueError, match="five-field"):
        cron_interval("every day")
