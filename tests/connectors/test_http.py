"""The shared resilience layer: wait hints, backoff, redaction and retries over real sockets."""

from __future__ import annotations

import gc
import socket
import weakref
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from perfect_catch.connectors.http import (
    ApiError,
    Redactor,
    ResilientClient,
    RetryPolicy,
    retry_after_header,
    seconds_in_text,
)


def _response(headers: dict[str, str]) -> httpx.Response:
    return httpx.Response(429, headers=headers)


def test_retry_after_header_reads_seconds_and_dates() -> None:
    assert retry_after_header(_response({"Retry-After": "7"})) == 7.0
    later = datetime.now(UTC) + timedelta(seconds=30)
    assert 25 <= retry_after_header(_response({"Retry-After": format_datetime(later)})) <= 31
    assert retry_after_header(_response({})) is None
    assert retry_after_header(_response({"Retry-After": "soon"})) is None


def test_seconds_in_text_reads_servicetitan_titles() -> None:
    assert seconds_in_text("Too many requests, try again in 2 seconds.") == 2.0
    assert seconds_in_text("Rate limit; retry in 1 second") == 1.0
    assert seconds_in_text("Too many requests") is None
    assert seconds_in_text(None) is None


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=10.0)
    assert [policy.backoff(n, lambda: 1.0) for n in range(6)] == [0.5, 1, 2, 4, 8, 10]
    assert policy.backoff(3, lambda: 0.0) == 0.0
    assert policy.backoff(3, lambda: 0.5) == 2.0


def test_redactor_scrubs_error_fields_message_and_repr() -> None:
    redact = Redactor(["s3cr3t-value", None, "", "ab"])
    error = ApiError(
        service="X", status=400, title="bad key s3cr3t-value", method="GET", path="/v/s3cr3t-value"
    )
    redact.scrub(error)
    for text in (str(error), repr(error), error.title, error.path):
        assert "s3cr3t-value" not in text
    assert "***" in str(error)
    assert redact("ab cd") == "ab cd"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_failures_are_retried_then_raise_without_secrets(fake_clock) -> None:
    clock = fake_clock
    url = f"http://127.0.0.1:{_closed_port()}/api/v2/things"
    with ResilientClient(
        service="Thing",
        timeout=2.0,
        policy=RetryPolicy(max_retries=3, base_delay=1.0),
        clock=clock.as_clock(),
        secrets=["tok-123456"],
    ) as client:
        with pytest.raises(ApiError) as caught:
            client.request(
                "POST", url, params={"q": "x"}, headers={"Authorization": "Bearer tok-123456"}
            )
        error = caught.value
        assert error.status is None
        assert error.attempts == 4
        assert error.path == "/api/v2/things"
        assert "tok-123456" not in str(error) + repr(error)
        assert error.__cause__ is None and error.__context__ is None
        assert client.stats.api_calls == 4
        assert client.stats.retries == 3
        assert clock.sleeps == [1.0, 2.0, 4.0]
        assert client.stats.seconds_waiting == pytest.approx(7.0)


def test_total_wait_bound_stops_retrying_early(fake_clock) -> None:
    clock = fake_clock
    url = f"http://127.0.0.1:{_closed_port()}/x"
    policy = RetryPolicy(max_retries=10, base_delay=1.0, max_total_wait=5.0)
    with (
        ResilientClient(service="Thing", policy=policy, clock=clock.as_clock()) as client,
        pytest.raises(ApiError),
    ):
        client.request("GET", url)
    assert clock.sleeps == [1.0, 2.0]
    assert sum(clock.sleeps) <= 5.0


def test_a_response_and_its_body_go_without_the_cyclic_collector(simulator) -> None:
    """httpx binds a response and its stream to each other: left so, a body (a whole export
    page) would stay in memory until the cyclic collector found it, which the sync makes rare."""
    url = simulator.base_url + "/_admin/env"
    with ResilientClient(service="Thing") as client:
        gc.collect()
        gc.disable()
        try:
            response = client.request("GET", url)
            body = response.content
            assert response.json()["SIMULATOR_URL"] == simulator.base_url
            assert b"".join(response.iter_bytes()) == body
            gone = weakref.ref(response)
            del response
            assert gone() is None
        finally:
            gc.enable()
