"""GHL throttling: burst 429s are waited out; a spent daily limit stops the run cleanly and the
next run resumes without losing a contact."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from integration_support import ghl_client, start_server

from perfect_catch.connectors.gohighlevel import GhlDailyLimitError, GhlError, GoHighLevelClient
from perfect_catch.integrations.ghl_sync import sync_ghl_contacts
from perfect_catch.simulators.gohighlevel.state import TOKEN


def test_burst_429s_are_waited_out() -> None:
    server = start_server(burst_limit=4, burst_window=0.3)
    try:
        with ghl_client(server) as client:
            answers = [client.pipelines() for _ in range(12)]
            assert len({str(answer) for answer in answers}) == 1 and len(answers[0]) == 2
            assert client.stats.retries > 0
            assert client.stats.api_calls == 12 + client.stats.retries
    finally:
        server.stop()


def test_daily_limit_stops_then_resumes_without_loss(engine: sa.Engine) -> None:
    server = start_server(daily_limit=3, burst_limit=1000)
    try:
        state = server.system("gohighlevel")
        expected = set(state.contacts)
        with ghl_client(server) as client:
            with pytest.raises(GhlDailyLimitError) as caught:
                sync_ghl_contacts(engine, client, page_limit=10)
            assert client.stats.retries == 0, "a spent daily limit must not be retried"
            assert client.stats.api_calls == 4
        message = str(caught.value)
        assert "daily limit" in message and "HTTP 429" in message
        assert TOKEN not in message and TOKEN not in repr(caught.value)
        with engine.connect() as conn:
            stored = conn.execute(sa.text("select count(*) from integrations.ghl_contacts"))
            assert stored.scalar_one() == 30

        state.limiter.reset_daily()
        with ghl_client(server) as client:
            result = sync_ghl_contacts(engine, client, page_limit=10)
        assert result.records >= len(expected) - 30
        with engine.connect() as conn:
            ids = set(conn.execute(sa.text("select id from integrations.ghl_contacts")).scalars())
        assert ids == expected
    finally:
        server.stop()


def test_injected_faults_do_not_lose_records(sim, engine: sa.Engine) -> None:
    state = sim.system("gohighlevel")
    sim.set_faults(rate_429=0.1, rate_5xx=0.15)
    with ghl_client(sim) as client:
        contacts = sync_ghl_contacts(engine, client, page_limit=7)
        assert client.stats.retries > 0
    sim.set_faults(rate_429=0.0, rate_5xx=0.0)
    assert contacts.records >= len(state.contacts)
    with engine.connect() as conn:
        ids = set(conn.execute(sa.text("select id from integrations.ghl_contacts")).scalars())
    assert ids == set(state.contacts)


def test_bad_token_error_is_clear_and_secret_free(sim) -> None:
    env = sim.env
    secret = "pit-wrong-token-value"
    client = GoHighLevelClient(env["GHL_API_URL"], secret, env["GHL_LOCATION_ID"])
    with client, pytest.raises(GhlError) as caught:
        client.pipelines()
    assert caught.value.status == 401
    assert "GoHighLevel GET" in str(caught.value) and secret not in repr(caught.value)
