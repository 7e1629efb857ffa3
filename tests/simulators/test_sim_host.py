"""The simulator host: env lines, shared fault injection, the admin endpoints, `serve`."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import time

import httpx
import pytest

from perfect_catch.simulators.faults import FaultConfig, FaultInjector

ST_KEYS = {
    "ST_API_URL",
    "ST_AUTH_URL",
    "ST_CLIENT_ID",
    "ST_CLIENT_SECRET",
    "ST_APP_KEY",
    "ST_TENANT_IDS",
    "ST_TIMEZONE",
}


def test_env_names_everything_a_client_needs(server) -> None:
    env = server.env
    assert set(env) >= ST_KEYS
    assert env["ST_API_URL"].startswith(server.base_url)
    assert httpx.get(f"{server.base_url}/_admin/env").json() == env


def test_fault_config_from_env() -> None:
    config = FaultConfig.from_env(
        {
            "SIM_FAULT_429_RATE": "0.25",
            "SIM_FAULT_LATENCY_MS": "5",
            "SIM_FAULT_TOKEN_TTL_SECONDS": "60",
        }
    )
    assert config.rate_429 == 0.25 and config.latency_ms == 5 and config.token_ttl_seconds == 60
    assert FaultConfig.from_env({}) == FaultConfig()
    draws = [FaultInjector(FaultConfig(rate_5xx=0.5), seed=4).draw() for _ in range(2)]
    assert draws[0] == draws[1]


def test_a_strike_waits_the_latency_and_a_timeout_hangs_before_it_is_answered() -> None:
    slow = FaultInjector(FaultConfig(latency_ms=50))
    began = time.monotonic()
    assert asyncio.run(slow.strike()) is None
    assert time.monotonic() - began >= 0.05
    hanging = FaultInjector(FaultConfig(rate_timeout=1.0, timeout_seconds=0.1))
    began = time.monotonic()
    assert asyncio.run(hanging.strike()) == "timeout"
    assert time.monotonic() - began >= 0.1
    limited = FaultInjector(FaultConfig(rate_429=1.0, timeout_seconds=30))
    began = time.monotonic()
    assert asyncio.run(limited.strike()) == "429"
    assert time.monotonic() - began < 1


def test_faults_via_admin_endpoint(server, st) -> None:
    admin = f"{server.base_url}/_admin/faults"
    assert httpx.get(admin).json()["rate_5xx"] == 0
    assert httpx.put(admin, json={"rate_5xx": 2}).status_code == 400
    try:
        assert httpx.put(admin, json={"rate_5xx": 1.0}).json()["rate_5xx"] == 1.0
        failed = st.get("jpm", "job-types")
        assert failed.status_code >= 500 and failed.json()["status"] == failed.status_code
        httpx.put(admin, json={"rate_5xx": 0.0, "rate_429": 1.0})
        limited = st.get("jpm", "job-types")
        assert limited.status_code == 429 and limited.json()["title"].endswith(" seconds.")
        assert httpx.get(f"{server.base_url}/servicetitan/_admin/state").status_code == 200
        httpx.put(admin, json={"rate_429": 0.0, "rate_timeout": 1.0, "timeout_seconds": 2})
        with pytest.raises(httpx.TimeoutException):
            st.http.get(st.url("jpm", "job-types"), headers=st.headers(), timeout=0.3)
        httpx.put(admin, json={"rate_timeout": 0.5, "timeout_seconds": 0})
        statuses = {st.get("jpm", "job-types").status_code for _ in range(30)}
        assert statuses == {200, 504}
    finally:
        httpx.put(
            admin, json={"rate_5xx": 0, "rate_429": 0, "rate_timeout": 0, "timeout_seconds": 30}
        )
    assert st.get("jpm", "job-types").status_code == 200


def test_admin_drives_the_simulation(server, st) -> None:
    base = f"{server.base_url}/servicetitan/_admin"
    before = httpx.get(f"{base}/state").json()
    advanced = httpx.post(f"{base}/advance", json={"days": 2}).json()
    assert advanced["daysSimulated"] == before["daysSimulated"] + 2
    tied = httpx.post(f"{base}/tied", json={"entity": "jobs", "count": 4}).json()
    assert len(tied["ids"]) == 4
    jobs = {r["id"]: r for r in server.system("servicetitan").records("jobs")}
    assert {jobs[i]["modifiedOn"] for i in tied["ids"]} == {tied["modifiedOn"]}
    bad = httpx.post(
        f"{base}/malformed", json={"entity": "jobs", "id": tied["ids"][0], "kind": "missing_id"}
    )
    assert bad.status_code == 200 and "id" not in bad.json()


def test_serve_prints_env_then_serves() -> None:
    code = "from perfect_catch.simulators.server import serve; serve(0, seed=2, size='small')"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        env: dict[str, str] = {}
        deadline = time.monotonic() + 30
        while not set(env) >= ST_KEYS and time.monotonic() < deadline:
            line = process.stdout.readline()
            key, _, value = line.strip().partition("=")
            env[key] = value
        assert set(env) >= ST_KEYS
        for _ in range(50):
            try:
                response = httpx.get(f"{env['SIMULATOR_URL']}/_admin/env")
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert response.json()["ST_TENANT_IDS"] == env["ST_TENANT_IDS"]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serving_collects_less_often_and_restores_the_thresholds() -> None:
    from perfect_catch.simulators.server import GC_THRESHOLD, fewer_collections

    before = gc.get_threshold()
    gc.set_threshold(700, *before[1:])
    try:
        with fewer_collections():
            assert gc.get_threshold() == (GC_THRESHOLD, *before[1:])
        assert gc.get_threshold() == (700, *before[1:])
    finally:
        gc.set_threshold(*before)


def test_several_tenants(monkeypatch, st_client_factory) -> None:
    from perfect_catch.simulators.server import SimulatorServer

    monkeypatch.setenv("SIM_ST_TENANT_IDS", "1000001,2000002")
    with SimulatorServer(seed=5) as sim:
        assert sim.env["ST_TENANT_IDS"] == "1000001,2000002"
        client = st_client_factory(sim.env)
        first = client.get("crm", "export/customers").json()["data"]
        other = client.http.get(
            client.url("crm", "export/customers", tenant=2000002), headers=client.headers()
        ).json()["data"]
        assert first and other and first != other
        state = sim.system("servicetitan")
        assert list(state.ground_truth(2000002, "customers")) == other
        client.close()
