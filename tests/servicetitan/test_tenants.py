"""Tenants as data: a tenant added to the configuration at runtime gets its partition from the
tenants sensor and syncs with its own credentials; a tenant's run reads, holds and passes on no
other tenant's secret; today's single-tenant variables keep working."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import httpx
import pytest
import sqlalchemy as sa
import yaml

from perfect_catch.defs.servicetitan.assets import build_servicetitan_assets
from perfect_catch.defs.servicetitan.resources import ServiceTitanResource
from perfect_catch.defs.servicetitan.schedules import build_sync_schedules
from perfect_catch.defs.servicetitan.tenants import build_tenants_sensor
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.settings import SettingsError, load_settings
from perfect_catch.tenants import (
    TENANT_PARTITIONS,
    TENANT_TAG,
    configured_tenant_ids,
    credentials_for,
)

SECOND = 2000002
FIRST_OWN = ("client-first", "secret-of-the-first-shop")
SECOND_OWN = ("client-second", "secret-of-the-second-shop")


class ReadLog(Mapping[str, str]):
    """An environment that records every name looked up in it."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.read: list[str] = []

    def __getitem__(self, key: str) -> str:
        self.read.append(key)
        return self.values[key]

    def get(self, key: str, default=None):  # type: ignore[override]
        self.read.append(key)
        return self.values.get(key, default)

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("a tenant's lookup must not walk the whole environment")

    def __len__(self) -> int:
        return len(self.values)


def _tick(sensor: dg.SensorDefinition, instance: dg.DagsterInstance) -> dg.SensorResult:
    """One sensor evaluation, its partition requests applied as the daemon would."""
    result = sensor(dg.build_sensor_context(instance=instance))
    assert isinstance(result, dg.SensorResult)
    for request in result.dynamic_partitions_requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)
    return result


@pytest.fixture
def shops(simulator) -> tuple[int, dict]:
    """The simulator's tenant with credentials of its own, and a second shop with its own."""
    first = int(simulator.env["ST_TENANT_IDS"].split(",")[0])
    state = simulator.system("servicetitan")
    state.add_tenant(first, *FIRST_OWN)
    state.add_tenant(SECOND, *SECOND_OWN)
    return first, simulator.env


def test_a_tenant_added_at_runtime_syncs_with_its_own_credentials(
    simulator, shops, database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    first, env = shops
    tenants_file = tmp_path / "tenants.yaml"
    entry = {"id": first, "client_id": FIRST_OWN[0], "client_secret": FIRST_OWN[1]}
    tenants_file.write_text(yaml.safe_dump({"tenants": [entry]}))
    settings = load_settings(
        st_tenant_ids=[], st_tenants_file=tenants_file, st_tenant_secret_prefix="pc-tenant-"
    )
    assets = build_servicetitan_assets()  # dynamic partitions
    sensor = build_tenants_sensor(assets[0].partitions_def, settings)
    assert sensor is not None
    incremental, _ = build_sync_schedules(assets, settings)
    resources = {
        "servicetitan": ServiceTitanResource(
            api_url=env["ST_API_URL"],
            auth_url=env["ST_AUTH_URL"],
            client_id=env["ST_CLIENT_ID"],
            client_secret=env["ST_CLIENT_SECRET"],
            app_key=env["ST_APP_KEY"],
            tenants_file=str(tenants_file),
        ),
        "warehouse": WarehouseResource(database_url=database_url),
    }
    with dg.instance_for_test() as instance:
        _tick(sensor, instance)
        assert instance.get_dynamic_partitions(TENANT_PARTITIONS) == [str(first)]

        # A shop is added to the file while everything runs: no restart, no redeploy.
        second = {"id": SECOND, "client_id": SECOND_OWN[0], "client_secret": SECOND_OWN[1]}
        tenants_file.write_text(yaml.safe_dump({"tenants": [entry, second]}))
        _tick(sensor, instance)
        assert instance.get_dynamic_partitions(TENANT_PARTITIONS) == [str(first), str(SECOND)]

        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2026, 12, 1, 9, 5, tzinfo=UTC)
        )
        requests = {r.partition_key: r for r in incremental(context)}
        assert set(requests) == {str(first), str(SECOND)}
        request = requests[str(SECOND)]
        assert request.tags[TENANT_TAG] == str(SECOND)
        k8s = json.loads(request.tags["dagster-k8s/config"])
        assert k8s["container_config"]["env_from"] == [
            {"secret_ref": {"name": f"pc-tenant-{SECOND}"}}
        ]

        customers = next(a for a in assets if a.key.path[-1] == "customers")
        state = simulator.system("servicetitan")
        state.token_clients.clear()
        result = dg.materialize(
            [customers],
            partition_key=str(SECOND),
            instance=instance,
            resources=resources,
            tags=request.tags,
        )
        assert result.success
        assert state.token_clients == [SECOND_OWN[0]]  # its own credentials, no one else's

        run = instance.get_run_by_id(result.run_id)
        assert run is not None and run.tags[TENANT_TAG] == str(SECOND)
        recorded = json.dumps([run.tags, run.run_config]) + "".join(
            str(e.dagster_event or e.user_message) for e in instance.all_logs(result.run_id)
        )
        for secret in (FIRST_OWN[1], SECOND_OWN[1], env["ST_CLIENT_SECRET"]):
            assert secret not in recorded

    with engine.connect() as conn:
        synced = conn.execute(
            sa.text("select count(*) from servicetitan.st_customers where tenant_id = :t"),
            {"t": SECOND},
        ).scalar_one()
    truth = sum(1 for _ in state.tenants[SECOND].records("customers"))
    assert synced == truth > 0


def test_a_tenants_token_opens_that_tenant_only(simulator, shops) -> None:
    first, env = shops
    token = httpx.post(
        f"{env['ST_AUTH_URL']}/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": SECOND_OWN[0],
            "client_secret": SECOND_OWN[1],
        },
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "ST-App-Key": env["ST_APP_KEY"]}
    own = httpx.get(f"{env['ST_API_URL']}/crm/v2/tenant/{SECOND}/customers", headers=headers)
    other = httpx.get(f"{env['ST_API_URL']}/crm/v2/tenant/{first}/customers", headers=headers)
    assert own.status_code == 200 and other.status_code == 401


def test_a_tenants_lookup_reads_only_its_own_variables() -> None:
    settings = load_settings(st_client_id="shared-id", st_client_secret="shared-secret")
    environ = ReadLog(
        {
            "ST_11_CLIENT_ID": "eleven",
            "ST_11_CLIENT_SECRET": "eleven-secret",
            "ST_22_CLIENT_ID": "twenty-two",
            "ST_22_CLIENT_SECRET": "twenty-two-secret",
        }
    )
    own = credentials_for(22, settings, environ)
    assert (own.client_id, own.client_secret.get_secret_value()) == (
        "twenty-two",
        "twenty-two-secret",
    )
    assert environ.read and all(name.startswith("ST_22_") for name in environ.read)
    assert "twenty-two-secret" not in repr(own) and "ST_22_CLIENT_SECRET" in own.source
    # A tenant without its own falls back to the shared (single-tenant) variables.
    shared = credentials_for(33, settings, environ)
    assert (shared.client_id, shared.client_secret.get_secret_value()) == (
        "shared-id",
        "shared-secret",
    )


def test_single_tenant_variables_keep_working_and_st_tenants_adds_to_them(monkeypatch) -> None:
    monkeypatch.setenv("ST_TENANT_IDS", "5")
    monkeypatch.setenv("ST_TENANTS", "6,7")
    settings = load_settings()
    assert settings.st_tenant_ids == [5, 6, 7]
    assert configured_tenant_ids(settings) == [5, 6, 7]
    assert build_servicetitan_assets([5])[0].partitions_def.get_partition_keys() == ["5"]


def test_a_bad_tenants_file_is_named_and_the_sensor_keeps_the_partitions(tmp_path: Path) -> None:
    bad = tmp_path / "tenants.yaml"
    bad.write_text("tenants:\n  - {id: abc}\n")
    settings = load_settings(st_tenant_ids=[], st_tenants_file=bad)
    with pytest.raises(SettingsError, match=str(bad)):
        configured_tenant_ids(settings)
    assets = build_servicetitan_assets()
    sensor = build_tenants_sensor(assets[0].partitions_def, settings)
    assert sensor is not None
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(TENANT_PARTITIONS, ["9"])
        result = _tick(sensor, instance)
        assert "ST_TENANTS_FILE" in (result.skip_reason.skip_message or "")
        assert instance.get_dynamic_partitions(TENANT_PARTITIONS) == ["9"]
