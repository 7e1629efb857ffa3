"""The healing job: the allowlisted actions that touch messages and workflows, run as a job
(not inside a sensor tick) so they are logged, retried and visible like any other run."""

import dagster as dg

from perfect_catch.defs.settings import SettingsResource
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.defs.workflows.jobs import warehouse_engine
from perfect_catch.monitoring import alerts, healing


@dg.op(
    name="heal",
    description="Reconcile stuck outbox rows with their provider, resume stuck workflow "
    "instances from their last completed step and post Slack alerts that failed; every action "
    "is written to monitoring.healing_actions.",
    tags={"domain": "monitoring"},
)
def heal_op(
    context: dg.OpExecutionContext, warehouse: WarehouseResource, settings: SettingsResource
) -> dg.Output[None]:
    with warehouse_engine(warehouse) as engine:
        outbox = healing.heal_outbox(engine, settings)
        resumed = healing.resume_workflows(engine, settings)
        slack = alerts.retry_failed_slack(engine, settings)
    context.log.info(f"outbox {outbox}; workflows resumed {resumed}; slack alerts {slack}")
    return dg.Output(
        None,
        metadata={
            "outbox": str(outbox),
            "workflows_resumed": sum(resumed.values()),
            "slack_alerts_posted": slack,
        },
    )


@dg.job(
    name="monitoring_heal",
    description="Allowlisted healing of messages and workflows (perfect_catch.monitoring.healing).",
    tags={"domain": "monitoring"},
    metadata={"actions": ", ".join(sorted(healing.ALLOWED_ACTIONS))},
)
def heal_job() -> None:
    heal_op()
