"""The job that runs one workflow instance's due steps (all logic in `workflows.running`).

One run per instance and wake-up: the event sensor requests it with run_key = instance id, the
due sensor with run_key = instance, step and due time. The engine's step records make a
retried or repeated run harmless. The messages the steps queued and that are due now are sent
at the end of the run (`dispatcher.dispatch_instance`), so an appointment confirmation does not
wait for the next outbox pass; whatever is deferred or refused stays for the outbox sensor.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import sqlalchemy as sa

from perfect_catch.defs.settings import SettingsResource
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.messaging.dispatcher import dispatch_instance
from perfect_catch.workflows.running import run_instance
from perfect_catch.workflows.runtime import Services

OP_NAME = "run_workflow_instance"


@contextmanager
def warehouse_engine(warehouse: WarehouseResource) -> Iterator[sa.Engine]:
    """The resource's engine, disposed afterwards when it was made for this call."""
    engine = warehouse.engine()
    try:
        yield engine
    finally:
        if warehouse.database_url:
            engine.dispose()


class InstanceConfig(dg.Config):
    """Which workflow instance to run."""

    instance_id: int


@dg.op(
    name=OP_NAME,
    description="Run the due steps of one workflow instance: re-check its conditions, then "
    "queue messages, wait, push to GHL, write to ServiceTitan, call webhooks or agents; "
    "finally send the messages it queued that are due now.",
    tags={"domain": "workflows"},
    retry_policy=dg.RetryPolicy(max_retries=2, delay=15),
)
def run_workflow_instance(
    context: dg.OpExecutionContext,
    config: InstanceConfig,
    warehouse: WarehouseResource,
    settings: SettingsResource,
) -> dg.Output[None]:
    with warehouse_engine(warehouse) as engine:
        services = Services(engine, settings)
        try:
            result = run_instance(engine, config.instance_id, services=services)
        finally:
            services.close()
        sent = dispatch_instance(engine, config.instance_id, settings)
    metadata = {
        "instance_id": result.instance_id,
        "status": result.status,
        "steps": [f"{s.key}: {s.status}" for s in result.steps],
        "next_step": result.next_step or "",
        "next_run_at": result.next_run_at.isoformat() if result.next_run_at else "",
        "messages_sent_now": sent.sent,
        "messages_deferred": sent.deferred,
    }
    if result.status == "failed":
        failed = [s for s in result.steps if s.status == "failed"]
        raise dg.Failure(
            description=f"workflow instance {result.instance_id} failed"
            + (f" at step {failed[-1].key}: {failed[-1].detail}" if failed else ""),
            metadata=metadata,
            allow_retries=False,
        )
    context.log.info(f"workflow instance {result.instance_id}: {result.status}")
    return dg.Output(None, metadata=metadata)


@dg.job(
    name="workflow_instance",
    description="Run one workflow instance (config: instance_id) up to its next wait.",
    tags={"domain": "workflows"},
    metadata={"engine": "perfect_catch.workflows.running.run_instance"},
)
def workflow_instance_job() -> None:
    run_workflow_instance()


def run_config(instance_id: int) -> dict:
    """Run config of `workflow_instance_job` for one instance."""
    return {"ops": {OP_NAME: {"config": {"instance_id": instance_id}}}}
