"""Suppliers are fetched politely: one login reused until it expires, a rate limit the site
can count, Retry-After honoured, and a bot check that stops the run and backs off."""

from __future__ import annotations

import httpx
import pytest

from perfect_catch.connectors.suppliers import open_client
from perfect_catch.connectors.suppliers.records import (
    BackingOffError,
    BotCheckError,
    FetchPlan,
    LoginRefusedError,
    RobotsDisallowedError,
)
from perfect_catch.connectors.suppliers.sessions import FileSessionStore, SessionStore
from perfect_catch.settings import load_settings
from tests.suppliers.conftest import supplier_settings


def test_the_default_rate_is_polite() -> None:
    assert load_settings().suppliers.supplier_requests_per_second == 0.5


def test_a_session_is_reused_and_an_expired_one_logs_in_once(simulator, tmp_path) -> None:
    settings = supplier_settings()
    site = simulator.system("pool360")
    sessions = FileSessionStore(tmp_path / "sessions")
    first = open_client("Pool360", settings, sessions)
    first.fetch(FetchPlan())
    assert (first.logins, site.logins) == (1, 1)
    assert (tmp_path / "sessions" / "pool360.json").stat().st_mode & 0o077 == 0

    second = open_client("Pool360", settings, sessions)
    second.fetch(FetchPlan(skus=(site.catalog.products[0].sku,)))
    assert (second.logins, site.logins) == (0, 1), "a later run reuses the stored session"

    site.expire_sessions()
    third = open_client("Pool360", settings, sessions)
    records = third.fetch(FetchPlan())
    assert (third.logins, site.logins) == (1, 2), "an expired session re-logs in exactly once"
    assert len(records) == len(site.catalog.products)


def test_a_refused_login_is_named_and_shows_no_password(simulator) -> None:
    simulator.set_faults(supplier_login_refused=True)
    settings = supplier_settings()
    client = open_client("CED", settings, SessionStore())
    with pytest.raises(LoginRefusedError) as caught:
        client.fetch(FetchPlan())
    assert "CED" in str(caught.value)
    assert settings.suppliers.ced_password.get_secret_value() not in str(caught.value)


def _max_per_second(times: list[float]) -> int:
    return max(sum(1 for t in times if start <= t < start + 1.0) for start in times)


@pytest.mark.parametrize("supplier", ["Pool360", "Home Depot"])
def test_the_rate_limit_holds_at_the_site(simulator, supplier: str) -> None:
    rate = 4.0
    settings = supplier_settings()
    site = simulator.system("pool360" if supplier == "Pool360" else "homedepot")
    client = open_client(supplier, settings, SessionStore(), requests_per_second=rate)
    products = [p.sku for p in site.catalog.products[:8]]
    if supplier == "Pool360":
        client.fetch(FetchPlan(skus=tuple(products)))
    else:
        for sku in products:
            client.product(sku)
    times = [r.at for r in site.requests]
    assert len(times) >= 8
    # Arrival times jitter on a loaded machine; a window may catch one request early.
    assert _max_per_second(times) <= rate + 1
    assert (len(times) - 1) / (times[-1] - times[0]) <= rate * 1.05


def test_a_bot_check_stops_the_run_and_backs_off(simulator) -> None:
    simulator.set_faults(supplier_bot_check_rps=2)
    settings = supplier_settings()
    site = simulator.system("pool360")
    sessions = SessionStore()
    client = open_client("Pool360", settings, sessions, requests_per_second=50)
    with pytest.raises(BotCheckError) as caught:
        client.fetch(FetchPlan(skus=tuple(p.sku for p in site.catalog.products)))
    sent = len(site.requests)
    # robots.txt, the listing (sent to the login), the login, the listing again: a bot check.
    assert sent == client.client.stats.api_calls - 1 == 3, "nothing after the bot check page"
    assert caught.value.backoff_until is not None
    assert sessions.backoff_until("Pool360") == caught.value.backoff_until

    again = open_client("Pool360", settings, sessions, requests_per_second=50)
    with pytest.raises(BackingOffError):
        again.fetch(FetchPlan())
    assert len(site.requests) == sent, "a run during the back-off sends nothing"


def test_an_api_429_honours_retry_after_then_backs_off(simulator, fake_clock) -> None:
    simulator.set_faults(supplier_bot_check_rps=1)
    settings = supplier_settings()
    site = simulator.system("homedepot")
    client = open_client(
        "Home Depot", settings, SessionStore(), clock=fake_clock.as_clock(), requests_per_second=50
    )
    with pytest.raises(BotCheckError):
        for sku in [p.sku for p in site.catalog.products[:4]]:
            client.product(sku)
    retries = [s for s in fake_clock.sleeps if s >= 1.0]
    assert retries and all(s >= 2.0 for s in retries), "Retry-After: 2 is never cut short"
    assert len(site.requests) <= 2 + client.client.policy.max_retries + 1


def test_robots_txt_is_read_and_obeyed(simulator) -> None:
    settings = supplier_settings()
    client = open_client("CED", settings, SessionStore())
    with pytest.raises(RobotsDisallowedError):
        client.client.request("GET", "/checkout")
    assert client.client.stats.api_calls == 1, "only robots.txt was fetched"
    assert simulator.system("ced").requests == []
    assert httpx.get(f"{simulator.base_url}/ced/robots.txt").text.startswith("User-agent")


def test_transient_errors_and_slow_pages_are_retried_with_backoff(simulator, fake_clock) -> None:
    simulator.set_faults(rate_5xx=0.25, latency_ms=50)
    settings = supplier_settings()
    site = simulator.system("pool360")
    client = open_client(
        "Pool360", settings, SessionStore(), clock=fake_clock.as_clock(), requests_per_second=50
    )
    records = client.fetch(FetchPlan(skus=tuple(p.sku for p in site.catalog.products[:6])))
    assert len(records) == len(site.catalog.products)
    assert client.client.stats.retries > 0
    backoffs = [s for s in fake_clock.sleeps if s > 0.1]
    assert backoffs and max(backoffs) <= client.client.policy.max_delay
