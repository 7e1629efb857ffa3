"""Anomaly checks on every ServiceTitan sync asset: freshness, row count, weekday volume and
reject share, per tenant. A failing check opens (or adds to) an incident, a passing one
resolves it; the diagnosis goes into the check's metadata for the UI."""

from datetime import UTC, datetime

import dagster as dg

from perfect_catch.defs.servicetitan.assets import asset_key
from perfect_catch.defs.settings import SettingsResource
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.defs.workflows.jobs import warehouse_engine
from perfect_catch.monitoring import anomalies
from perfect_catch.monitoring.incidents import get_incident
from perfect_catch.monitoring.recording import Monitor
from perfect_catch.warehouse.catalog import ENTITIES, EntitySpec


def _outcomes(engine, settings, spec: EntitySpec, tenant: str, now: datetime):
    table = f"{spec.schema}.{spec.table}"
    return [
        anomalies.freshness(engine, settings, spec.source, tenant, spec.name, now),
        anomalies.row_count(engine, spec.source, tenant, spec.name, table, now),
        anomalies.volume(engine, spec.source, tenant, spec.name, table, now),
        anomalies.rejects(engine, spec.source, tenant, spec.name, now),
    ]


def build_monitored_check(spec: EntitySpec) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset_key(spec),
        name="monitored",
        description=f"Freshness against its schedule, rows never dropping without deletes, "
        f"volume against the same weekday and reject share of {spec.name}, per tenant. A "
        "failure opens or adds to an incident (see monitoring.incidents) with its diagnosis.",
        blocking=False,
        metadata={
            "incidents": "monitoring.incidents",
            "checks": "freshness, row_count, volume, rejects",
        },
    )
    def _check(
        context: dg.AssetCheckExecutionContext,
        warehouse: WarehouseResource,
        settings: SettingsResource,
    ) -> dg.AssetCheckResult:
        now = datetime.now(UTC)
        diagnoses: list[str] = []
        failed: list[str] = []
        with warehouse_engine(warehouse) as engine:
            monitor = Monitor(engine, settings)
            outcomes = [
                outcome
                for tenant in [str(t) for t in settings.st_tenant_ids]
                for outcome in _outcomes(engine, settings, spec, tenant, now)
            ]
            failing = anomalies.evaluate(monitor, outcomes, context.run.run_id)
            for incident_id, checks in failing.items():
                incident = get_incident(engine, incident_id) or {}
                failed.append(checks)
                diagnoses.append(
                    f"#{incident_id} {incident.get('kind')}: {incident.get('diagnosis')}"
                )
        return dg.AssetCheckResult(
            passed=not failing,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "failed": ", ".join(failed) or "none",
                "details": "; ".join(o.detail for o in outcomes if not o.passed)
                or "all checks passed",
                "diagnosis": "\n".join(diagnoses) or "none",
                "incidents": ", ".join(f"#{i}" for i in failing) or "none",
            },
        )

    return _check


monitored_checks = [build_monitored_check(spec) for spec in ENTITIES]
