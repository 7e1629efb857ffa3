"""The ServiceTitan client against the running simulator: auth, feeds, paging, faults, errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from perfect_catch.connectors.http import RetryPolicy
from perfect_catch.connectors.servicetitan import (
    ExportPage,
    ServiceTitanClient,
    ServiceTitanError,
    _wait_hint,
)
from perfect_catch.settings import load_settings
from perfect_catch.simulators.server import SimulatorServer

SECRET_KEYS = ("ST_CLIENT_SECRET", "ST_APP_KEY")


def _client(sim: SimulatorServer, clock: Any = None, **overrides: Any) -> ServiceTitanClient:
    env = sim.env
    args: dict[str, Any] = {
        "api_url": env["ST_API_URL"],
        "auth_url": env["ST_AUTH_URL"],
        "client_id": env["ST_CLIENT_ID"],
        "client_secret": env["ST_CLIENT_SECRET"],
        "app_key": env["ST_APP_KEY"],
        "tenant_id": int(env["ST_TENANT_IDS"].split(",")[0]),
    }
    options = {
        key: overrides.pop(key)
        for key in ("timeout", "max_retries", "policy", "page_size")
        if key in overrides
    }
    args.update(overrides)
    if clock is not None:
        options["clock"] = clock.as_clock()
    return ServiceTitanClient(**args, **options)


def _truth(sim: SimulatorServer, entity: str) -> list[dict[str, Any]]:
    """The simulator's records as they look after a JSON round trip."""
    return orjson.loads(orjson.dumps(list(sim.system("servicetitan").records(entity))))


def _all_records(pages: Iterator[ExportPage]) -> list[dict[str, Any]]:
    return [record for page in pages for record in page.records]


def _secrets(sim: SimulatorServer, client: ServiceTitanClient) -> list[str]:
    values = [sim.env[key] for key in SECRET_KEYS]
    if client._token:
        values.append(client._token)
    return values


def _assert_no_secret(error: BaseException, secrets: list[str]) -> None:
    texts = [
        str(error),
        repr(error),
        *(str(v) for v in vars(error).values()),
        *map(str, error.args),
    ]
    for secret in secrets:
        assert all(secret not in text for text in texts), f"secret leaked into {type(error)}"


def test_full_export_equals_ground_truth_and_reuses_one_token(st_sim, fake_clock) -> None:
    with _client(st_sim, fake_clock) as client:
        pages = list(client.export("jpm", "jobs"))
        customer_pages = list(client.export("crm", "customers"))
        assert client.tokens_issued == 1
    assert len(pages) > 3
    assert [page.has_more for page in pages] == [True] * (len(pages) - 1) + [False]
    assert _all_records(iter(pages)) == _truth(st_sim, "jobs")
    assert _all_records(iter(customer_pages)) == _truth(st_sim, "customers")
    assert client.stats.pages == len(pages) + len(customer_pages)
    assert client.stats.api_calls == client.stats.pages + 1  # one token request
    assert client.stats.retries == 0 and fake_clock.sleeps == []


def test_the_servers_own_rate_limit_is_waited_out_for_real(st_sim) -> None:
    """Real clock: ST's per-tenant limit answers 429 with the wait; the client honours it."""
    state = st_sim.system("servicetitan")
    state.rate_limit, state.export_page_size = 4, 25
    with _client(st_sim) as client:
        records = _all_records(client.export("crm", "customers"))
    assert records == _truth(st_sim, "customers")
    assert client.stats.retries > 0 and client.stats.seconds_waiting >= 1.0


def test_export_resumes_from_a_stored_continuation_token(st_sim, fake_clock) -> None:
    with _client(st_sim, fake_clock) as client:
        first = list(client.export("jpm", "jobs"))
        resumed = list(client.export("jpm", "jobs", from_token=first[1].continue_from))
    assert _all_records(iter(resumed)) == _all_records(iter(first[2:]))
    assert resumed[-1].continue_from == first[-1].continue_from


def test_token_is_renewed_once_after_the_server_expires_it(st_sim, fake_clock) -> None:
    with _client(st_sim, fake_clock) as client:
        client.get("crm", "customers", {"pageSize": 1})
        st_sim.system("servicetitan").expire_tokens()
        body = client.get("crm", "customers", {"pageSize": 1})
        assert len(body["data"]) == 1
        assert client.tokens_issued == 2
        # 1 token + 1 call, then a 401, a new token and the call again
        assert client.stats.api_calls == 5


def test_short_lived_tokens_are_renewed_before_they_run_out(st_sim, fake_clock) -> None:
    st_sim.set_faults(token_ttl_seconds=10)
    with _client(st_sim, fake_clock) as client:
        client.get("crm", "customers", {"pageSize": 1})
        fake_clock.sleep(9.5)  # past the renewal point (9 s), before ST's own expiry
        client.get("crm", "customers", {"pageSize": 1})
        assert client.tokens_issued == 2
        assert client.stats.api_calls == 4  # no 401 on the way


def test_429_storm_and_5xx_are_retried_and_export_is_complete(st_sim, fake_clock) -> None:
    st_sim.set_faults(rate_429=0.3, rate_5xx=0.1)
    with _client(st_sim, fake_clock, policy=RetryPolicy(max_retries=12)) as client:
        records = _all_records(client.export("jpm", "jobs"))
        listed = [
            r["id"] for p in client.iter_list("jpm", "jobs", {"pageSize": 40}) for r in p.records
        ]
    assert records == _truth(st_sim, "jobs")
    assert sorted(listed) == sorted(r["id"] for r in records)
    assert client.stats.retries > 0
    assert client.stats.api_calls == client.stats.pages + client.stats.retries + 1
    assert client.stats.seconds_waiting == pytest.approx(sum(fake_clock.sleeps))


def test_client_waits_at_least_as_long_as_the_429_title_says(st_sim, fake_clock) -> None:
    st_sim.set_faults(rate_429=1.0)
    fake_clock.jitter = 0.0  # backoff alone would not wait at all
    with (
        _client(st_sim, fake_clock, max_retries=3) as client,
        pytest.raises(ServiceTitanError) as caught,
    ):
        client.get("crm", "customers")
    error = caught.value
    assert error.status == 429 and "try again in 2 seconds" in error.title
    assert fake_clock.sleeps == [2.0, 2.0, 2.0]
    assert client.stats.retries == 3 and client.stats.seconds_waiting == 6.0


def test_wait_hint_reads_the_title_when_there_is_no_retry_after_header() -> None:
    body = {
        "type": "x",
        "title": "Too many requests. Please try again in 7 seconds.",
        "status": 429,
        "traceId": "t",
        "errors": {},
        "data": {},
    }
    assert _wait_hint(httpx.Response(429, content=orjson.dumps(body))) == 7.0
    assert _wait_hint(httpx.Response(503, content=orjson.dumps(body))) is None
    assert _wait_hint(httpx.Response(429, content=b"slow down, 3 seconds")) == 3.0


def test_timeouts_are_retried(st_sim, fake_clock) -> None:
    st_sim.system("servicetitan").export_page_size = 25
    st_sim.set_faults(rate_timeout=0.5, timeout_seconds=1.0)
    with _client(st_sim, fake_clock, timeout=0.2, max_retries=12) as client:
        records = _all_records(client.export("jpm", "jobs"))
    assert records == _truth(st_sim, "jobs")
    assert client.stats.retries > 0


def test_a_request_that_always_times_out_fails_clearly(st_sim, fake_clock) -> None:
    st_sim.set_faults(rate_timeout=1.0, timeout_seconds=1.0)
    with (
        _client(st_sim, fake_clock, timeout=0.2, max_retries=2) as client,
        pytest.raises(ServiceTitanError) as caught,
    ):
        client.get("crm", "customers")
    error = caught.value
    assert error.status is None and error.attempts == 3
    assert "timed out" in str(error) and "ST_API_URL" in str(error)
    _assert_no_secret(error, _secrets(st_sim, client))


def test_exhausted_retries_raise_with_trace_id_and_no_secret(st_sim, fake_clock) -> None:
    st_sim.set_faults(rate_5xx=1.0)
    with (
        _client(st_sim, fake_clock, max_retries=2) as client,
        pytest.raises(ServiceTitanError) as caught,
    ):
        list(client.export("jpm", "jobs", from_token=None))
    error = caught.value
    assert error.status == 503 and error.attempts == 3
    assert error.trace_id and error.trace_id in str(error)
    assert error.method == "GET"
    assert error.path.endswith("/jpm/v2/tenant/1000001/export/jobs")
    assert "Service Unavailable" in str(error) and "after 3 attempts" in str(error)
    assert error.__cause__ is None and error.__context__ is None
    _assert_no_secret(error, _secrets(st_sim, client))


def test_validation_errors_carry_field_messages(st_sim, fake_clock) -> None:
    with _client(st_sim, fake_clock) as client, pytest.raises(ServiceTitanError) as caught:
        client.post("jpm", "jobs", {"summary": "no ids"})
    error = caught.value
    assert error.status == 400 and error.attempts == 1
    assert "customerId" in error.errors and "customerId" in str(error)
    assert error.trace_id
    _assert_no_secret(error, _secrets(st_sim, client))


def test_server_errors_on_post_are_not_retried(st_sim, fake_clock) -> None:
    customer_id = _truth(st_sim, "customers")[0]["id"]
    st_sim.set_faults(rate_5xx=1.0)
    with _client(st_sim, fake_clock) as client, pytest.raises(ServiceTitanError) as caught:
        client.post("crm", f"customers/{customer_id}/notes", {"text": "hello"})
    assert caught.value.status == 503 and caught.value.attempts == 1
    assert fake_clock.sleeps == []


def test_bad_client_secret_names_the_settings_to_check(st_sim, fake_clock) -> None:
    with (
        _client(st_sim, fake_clock, client_secret="wrong-secret-value") as client,
        pytest.raises(ServiceTitanError) as caught,
    ):
        client.get("crm", "customers")
    message = str(caught.value)
    assert "invalid_client" in message and "ST_CLIENT_ID" in message
    assert "ST_CLIENT_SECRET" in message
    _assert_no_secret(caught.value, ["wrong-secret-value", st_sim.env["ST_APP_KEY"]])


def test_bad_app_key_names_the_setting_to_check(st_sim, fake_clock) -> None:
    with (
        _client(st_sim, fake_clock, app_key="wrong-app-key") as client,
        pytest.raises(ServiceTitanError) as caught,
    ):
        client.get("crm", "customers")
    assert caught.value.status == 403 and "ST_APP_KEY" in str(caught.value)
    _assert_no_secret(caught.value, ["wrong-app-key", *_secrets(st_sim, client)])


def test_unreachable_auth_host_is_a_clear_error(fake_clock) -> None:
    client = ServiceTitanClient(
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
        "id",
        "secret-xyz",
        "key-xyz",
        1,
        max_retries=1,
        clock=fake_clock.as_clock(),
    )
    with client, pytest.raises(ServiceTitanError) as caught:
        client.get("crm", "customers")
    assert caught.value.status is None and "ST_AUTH_URL" in str(caught.value)
    _assert_no_secret(caught.value, ["secret-xyz", "key-xyz"])


def test_list_paging_returns_each_record_once(st_sim, fake_clock) -> None:
    with _client(st_sim, fake_clock) as client:
        pages = list(client.iter_list("jpm", "jobs", {"pageSize": 37, "includeTotal": "true"}))
    ids = [record["id"] for page in pages for record in page.records]
    assert [page.page for page in pages] == list(range(1, len(pages) + 1))
    assert len(ids) == len(set(ids)) == pages[0].total_count
    assert set(ids) == {record["id"] for record in _truth(st_sim, "jobs")}
    assert len(pages) == -(-pages[0].total_count // 37) > 1
    assert [page.has_more for page in pages] == [True] * (len(pages) - 1) + [False]


def test_from_settings_and_plain_get(st_sim, fake_clock) -> None:
    settings = load_settings(
        **{key.lower(): value for key, value in st_sim.env.items() if key.startswith("ST_")}
    )
    tenant = settings.st_tenant_ids[0]
    with ServiceTitanClient.from_settings(settings, tenant, clock=fake_clock.as_clock()) as client:
        job = _truth(st_sim, "jobs")[0]
        assert client.get("jpm", f"jobs/{job['id']}")["id"] == job["id"]
        assert client.page_size == settings.st_page_size
        assert st_sim.env["ST_CLIENT_SECRET"] not in repr(client)
    assert set(client.stats.as_dict()) == {"api_calls", "retries", "pages", "seconds_waiting"}
