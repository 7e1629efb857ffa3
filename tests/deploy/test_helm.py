"""docker/helm/values.yaml for Dagster's Helm chart: the sections the chart renders into the
instance's dagster.yaml (run launcher, run coordinator, concurrency, monitoring, retries,
daemons), rendered here the way the chart's templates do, validated against Dagster's instance
schema and the K8sRunLauncher's and QueuedRunCoordinator's own config schemas (the chart's
values schema refers to remote Kubernetes schemas, so it is not vendored)."""

from __future__ import annotations

import json

import yaml
from dagster._core.instance.config import dagster_instance_config_schema, validate_config
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster_k8s import K8sRunLauncher
from deploy_files import DOCKER, ROOT

from perfect_catch.tenants import TENANT_TAG


def _values() -> dict:
    return yaml.safe_load((DOCKER / "helm" / "values.yaml").read_text())


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _snake_keys(value: dict) -> dict:
    return {_snake(key): item for key, item in value.items()}


def render_instance(values: dict) -> dict:
    """The parts of dagster.yaml the chart renders from these values (templates
    `helpers/instance/_run-launcher.tpl`, `_run-coordinator.tpl`, `_concurrency.tpl` and
    `configmap-instance.yaml`)."""
    k8s = values["runLauncher"]["config"]["k8sRunLauncher"]
    launcher = {
        "load_incluster_config": k8s["loadInclusterConfig"],
        "job_namespace": k8s.get("jobNamespace", "perfect-catch"),
        "image_pull_policy": k8s["imagePullPolicy"],
        "service_account_name": values["global"]["serviceAccountName"],
        "dagster_home": {"env": "DAGSTER_HOME"},
        "instance_config_map": {"env": "DAGSTER_K8S_INSTANCE_CONFIG_MAP"},
        "postgres_password_secret": {"env": "DAGSTER_K8S_PG_PASSWORD_SECRET"},
        "env_config_maps": [{"env": "DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP"}]
        + [c["name"] for c in k8s.get("envConfigMaps", [])],
        "env_secrets": [s["name"] for s in k8s.get("envSecrets", [])],
        "env_vars": k8s.get("envVars", []),
        "run_k8s_config": {_snake(key): item for key, item in k8s.get("runK8sConfig", {}).items()},
    }
    daemon = values["dagsterDaemon"]
    queued = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    runs = values["concurrency"]["runs"]
    concurrency = {
        "runs": {
            "max_concurrent_runs": runs["maxConcurrentRuns"],
            "tag_concurrency_limits": runs["tagConcurrencyLimits"],
        },
        "pools": _snake_keys(values["concurrency"]["pools"]),
    }
    return {
        "storage": {
            "postgres": {
                "postgres_db": {
                    "username": values["postgresql"]["postgresqlUsername"],
                    "password": {"env": "DAGSTER_PG_PASSWORD"},
                    "hostname": values["postgresql"]["postgresqlHost"],
                    "db_name": values["postgresql"]["postgresqlDatabase"],
                    "port": values["postgresql"]["service"]["port"],
                    "params": values["postgresql"]["postgresqlParams"],
                }
            }
        },
        "run_launcher": {"module": "dagster_k8s", "class": "K8sRunLauncher", "config": launcher},
        "run_coordinator": {
            "module": "dagster._core.run_coordinator",
            "class": "QueuedRunCoordinator",
            "config": _snake_keys(queued),
        },
        "concurrency": concurrency,
        "run_monitoring": _snake_keys(daemon["runMonitoring"]),
        "run_retries": _snake_keys(daemon["runRetries"]),
        "sensors": _snake_keys(daemon["sensors"]),
        "schedules": _snake_keys(daemon["schedules"]),
        "telemetry": values["telemetry"],
    }


def test_the_chart_runs_each_run_as_a_kubernetes_job() -> None:
    values = _values()
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    rendered = render_instance(values)["run_launcher"]["config"]
    result = validate_config(K8sRunLauncher.config_type(), rendered)
    assert result.success, result.errors
    # Runs load the shared settings only; a tenant's Secret comes with its own runs' tags.
    assert rendered["env_secrets"] == ["perfect-catch-env"]
    assert "ST_TENANT_SECRET_PREFIX=perfect-catch-tenant-" in rendered["env_vars"]
    requests = rendered["run_k8s_config"]["container_config"]["resources"]["requests"]
    assert requests["cpu"] and requests["memory"]


def test_the_rendered_instance_is_valid_for_dagster() -> None:
    rendered = render_instance(_values())
    result = validate_config(dagster_instance_config_schema(), rendered)
    assert result.success, result.errors
    queued = validate_config(
        QueuedRunCoordinator.config_type(), rendered["run_coordinator"]["config"]
    )
    assert queued.success, queued.errors


def test_the_chart_limits_runs_per_tenant_and_per_api_like_compose() -> None:
    helm = render_instance(_values())["concurrency"]["runs"]["tag_concurrency_limits"]
    compose = yaml.safe_load((DOCKER / "dagster.yaml").read_text())["concurrency"]["runs"][
        "tag_concurrency_limits"
    ]
    assert {TENANT_TAG} <= {rule["key"] for rule in helm}
    assert [r for r in helm if r["key"] == TENANT_TAG] == [
        r for r in compose if r["key"] == TENANT_TAG
    ]
    assert {r["value"] for r in helm if r["key"] == "source"} == {
        r["value"] for r in compose if r["key"] == "source"
    }


def test_the_code_location_is_a_user_deployment_of_this_image() -> None:
    values = _values()
    [deployment] = values["dagster-user-deployments"]["deployments"]
    args = deployment["dagsterApiGrpcArgs"]
    assert args[args.index("-m") + 1] == "perfect_catch.definitions"
    assert deployment["resources"]["requests"]
    assert values["postgresql"]["enabled"] is False  # external PostgreSQL
    for name in ("webhooks.yaml", "migrate.yaml"):
        documents = list(yaml.safe_load_all((DOCKER / "k8s" / name).read_text()))
        assert all(doc["apiVersion"] and doc["kind"] for doc in documents)
    webhooks = yaml.safe_load_all((DOCKER / "k8s" / "webhooks.yaml").read_text())
    container = next(iter(webhooks))["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][:2] == ["perfect-catch", "serve-webhooks"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"


def test_a_tenants_run_tag_loads_only_its_own_kubernetes_secret() -> None:
    from perfect_catch.defs.servicetitan.partitions import tenant_run_tags
    from perfect_catch.settings import load_settings

    settings = load_settings(st_tenant_secret_prefix="perfect-catch-tenant-")
    tags = tenant_run_tags("1000002", settings)
    assert tags[TENANT_TAG] == "1000002"
    config = json.loads(tags["dagster-k8s/config"])
    assert config == {
        "container_config": {"env_from": [{"secret_ref": {"name": "perfect-catch-tenant-1000002"}}]}
    }
    # Dagster's K8s launcher reads this tag as the run pod's own container config.
    from dagster_k8s.job import get_user_defined_k8s_config

    container = get_user_defined_k8s_config(tags).container_config
    assert container["env_from"] == [{"secret_ref": {"name": "perfect-catch-tenant-1000002"}}]
    assert str(ROOT) not in json.dumps(tags)
