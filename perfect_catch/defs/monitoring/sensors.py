"""The monitoring sensors: runs that fail or succeed are recorded, and the healing sensor
re-runs stalled syncs with backoff and starts the healing job when messages or workflows are
stuck.

The run sensors read the failed step's error as Dagster kept it (class and message, causes
included) and hand it to the same `Monitor` the CLI uses, so an incident is one per root cause
whichever path hit it.
"""

from datetime import UTC, datetime

import dagster as dg
from dagster._utils.error import SerializableErrorInfo

from perfect_catch.defs.monitoring.jobs import heal_job
from perfect_catch.defs.runs import ACTIVE_STATUSES
from perfect_catch.defs.servicetitan.schedules import servicetitan_incremental_schedule
from perfect_catch.defs.settings import SettingsResource
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.defs.workflows.jobs import warehouse_engine
from perfect_catch.monitoring import healing
from perfect_catch.monitoring.freshness import SYNC_SOURCES
from perfect_catch.monitoring.recording import Monitor
from perfect_catch.settings import get_settings

SYNC_JOB = servicetitan_incremental_schedule.job
HEALING_INTERVAL_SECONDS = 60
STATUS = (
    dg.DefaultSensorStatus.RUNNING
    if get_settings().schedules_default_on
    else dg.DefaultSensorStatus.STOPPED
)


def error_text(error: SerializableErrorInfo | None) -> str:
    """Class and message of an error and of its causes, as one line per link."""
    lines = []
    while error is not None and len(lines) < 5:
        lines.append(f"{error.cls_name}: {error.message.strip()}")
        error = error.cause or error.context
    return "\n".join(lines)


def scope_of_step(step_key: str, tags: dict[str, str]) -> tuple[str, str | None]:
    """(source, entity) of a failed step: `servicetitan__customers` is ServiceTitan's
    customers; another step belongs to its run's `source` tag, or to Dagster itself."""
    prefix, _, rest = step_key.partition("__")
    if prefix in SYNC_SOURCES and rest:
        return prefix, rest
    return tags.get("source") or tags.get("domain") or "dagster", step_key


def record_failed_run(
    monitor: Monitor, run: dg.DagsterRun, failures: list[tuple[str, str]], message: str
) -> list[int]:
    """Record each failed step of `run` (step key, error text); a run that failed without a
    failed step (killed, timed out by run monitoring) is recorded as a stuck run."""
    tags = dict(run.tags)
    tenant = tags.get("dagster/partition")
    recorded = []
    for step_key, text in failures:
        source, entity = scope_of_step(step_key, tags)
        recorded.append(
            monitor.failure(
                source=source, error=text, run_id=run.run_id, tenant_id=tenant, entity=entity
            ).incident_id
        )
    if not failures:
        recorded.append(
            monitor.check_failed(
                kind="stuck_run",
                source="dagster",
                detail=f"run of {run.job_name} failed without a failed step: {message}",
                run_id=run.run_id,
                entity=run.job_name,
            ).incident_id
        )
    return recorded


@dg.run_failure_sensor(
    name="monitoring_run_failures",
    description="Records every failed run as an incident (one per root cause, with the rules' "
    "diagnosis and, with ANTHROPIC_API_KEY, Claude's) and alerts operators once per incident.",
    default_status=STATUS,
    monitor_all_code_locations=False,
    minimum_interval_seconds=30,
    tags={"domain": "monitoring"},
    metadata={"writes": "monitoring.incidents, monitoring.sync_runs, monitoring.alerts"},
)
def run_failure_sensor(
    context: dg.RunFailureSensorContext, warehouse: WarehouseResource, settings: SettingsResource
) -> None:
    failures = []
    for event in context.get_step_failure_events():
        data = event.event_specific_data
        failures.append((event.step_key or "run", error_text(getattr(data, "error", None))))
    with warehouse_engine(warehouse) as engine:
        ids = record_failed_run(
            Monitor(engine, settings),
            context.dagster_run,
            failures,
            context.failure_event.message or "",
        )
    context.log.info(f"run {context.dagster_run.run_id} recorded in incident(s) {ids}")


def materialized_scopes(
    instance: dg.DagsterInstance, run: dg.DagsterRun
) -> list[tuple[str, str | None, str, int | None, int | None]]:
    """(source, tenant, entity, records, rejected) of each synced asset the run materialized."""
    records = instance.get_records_for_run(
        run_id=run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records
    scopes = []
    for record in records:
        materialization = record.asset_materialization
        if materialization is None:
            continue
        path = materialization.asset_key.path
        if len(path) != 2 or path[0] not in SYNC_SOURCES:
            continue
        count, rejected = (
            getattr(materialization.metadata.get(name), "value", None)
            for name in ("records", "rejected")
        )
        scopes.append(
            (
                path[0],
                materialization.partition,
                path[1],
                count if isinstance(count, int) else None,
                rejected if isinstance(rejected, int) else None,
            )
        )
    return scopes


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="monitoring_run_successes",
    description="Records each sync a successful run made (the sync history health reads) and "
    "resolves the incidents it proves gone, naming the run; operators hear of the resolution.",
    default_status=STATUS,
    monitor_all_code_locations=False,
    minimum_interval_seconds=30,
    tags={"domain": "monitoring"},
    metadata={"writes": "monitoring.sync_runs, monitoring.incidents (resolutions)"},
)
def run_success_sensor(
    context: dg.RunStatusSensorContext, warehouse: WarehouseResource, settings: SettingsResource
) -> None:
    run = context.dagster_run
    with warehouse_engine(warehouse) as engine:
        monitor = Monitor(engine, settings)
        for source, tenant, entity, records, rejected in materialized_scopes(context.instance, run):
            monitor.success(
                source=source,
                run_id=run.run_id,
                tenant_id=tenant,
                entity=entity,
                records=records,
                rejected=rejected,
            )


def _running_scopes(instance: dg.DagsterInstance) -> frozenset[tuple[str, str | None]]:
    runs = instance.get_run_records(
        dg.RunsFilter(job_name=SYNC_JOB.name, statuses=ACTIVE_STATUSES), limit=50
    )
    return frozenset(("servicetitan", r.dagster_run.tags.get("dagster/partition")) for r in runs)


@dg.sensor(
    name="monitoring_healing",
    jobs=[SYNC_JOB, heal_job],
    minimum_interval_seconds=HEALING_INTERVAL_SECONDS,
    default_status=STATUS,
    description="Re-runs ServiceTitan syncs whose incident is transient (rate limit, outage, "
    "timeout, staleness) with exponential backoff and a cap per incident, never a permanent "
    "one (bad credentials, schema drift); starts the healing job when outbox rows or workflow "
    "instances are stuck. Every action is written to monitoring.healing_actions.",
    tags={"domain": "monitoring"},
    metadata={
        "interval_seconds": HEALING_INTERVAL_SECONDS,
        "actions": ", ".join(sorted(healing.ALLOWED_ACTIONS)),
    },
)
def healing_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, settings: SettingsResource
) -> dg.SensorResult:
    now = datetime.now(UTC)
    requests = []
    with warehouse_engine(warehouse) as engine:
        reruns = healing.plan_reruns(
            engine, settings, now=now, running=_running_scopes(context.instance)
        )
        stuck = healing.stuck_work(engine, settings, now)
    for rerun in reruns:
        selection = [
            dg.AssetKey(["servicetitan", entity]) for entity in rerun.entities or ()
        ] or None
        requests.append(
            dg.RunRequest(
                run_key=f"heal:{rerun.incident_id}:{rerun.attempt}",
                job_name=SYNC_JOB.name,
                partition_key=rerun.tenant_id,
                asset_selection=selection,
                tags={"monitoring/incident": str(rerun.incident_id), "sync_kind": "healing"},
            )
        )
    if stuck:
        slot = int(now.timestamp()) // HEALING_INTERVAL_SECONDS
        requests.append(
            dg.RunRequest(
                run_key=f"heal:work:{slot}",
                job_name=heal_job.name,
                tags={"monitoring/stuck": ",".join(f"{k}={v}" for k, v in stuck.items())},
            )
        )
    if not requests:
        return dg.SensorResult(skip_reason="nothing to heal")
    return dg.SensorResult(run_requests=requests)
