"""The outbox dispatch job: one op per provider, each in that provider's concurrency pool.

All logic is `perfect_catch.messaging.dispatcher.dispatch_due`; the ops only choose the channel
and report the counts. Repeated or overlapping runs are harmless: rows are claimed with
`FOR UPDATE SKIP LOCKED` and each idempotency key is handed to a provider at most once.
"""

import dagster as dg

from perfect_catch.defs.settings import SettingsResource
from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.defs.workflows.jobs import warehouse_engine
from perfect_catch.messaging.dispatcher import dispatch_due
from perfect_catch.settings import Settings


def _dispatch(
    context: dg.OpExecutionContext, warehouse: WarehouseResource, settings: Settings, channel: str
) -> dict:
    with warehouse_engine(warehouse) as engine:
        result = dispatch_due(engine, settings, channels=[channel])
    counts = result.as_dict()
    errors = counts.pop("errors")
    if errors:
        context.log.warning(f"{channel}: {len(errors)} message(s) failed: {errors[:5]}")
    context.log.info(f"{channel} dispatch: {counts}")
    return {**counts, "errors": len(errors)}


@dg.op(
    name="dispatch_sms",
    description="Send due SMS from automation.outbox through Twilio (consent, quiet hours and "
    "caps checked per message; stale claims reconciled with Twilio).",
    pool="twilio_api",
    tags={"domain": "messaging"},
)
def dispatch_sms(
    context: dg.OpExecutionContext, warehouse: WarehouseResource, settings: SettingsResource
) -> dg.Output[None]:
    return dg.Output(None, metadata=_dispatch(context, warehouse, settings, "sms"))


@dg.op(
    name="dispatch_email",
    description="Send due emails from automation.outbox through SendGrid (consent and caps "
    "checked per message; stale claims reconciled with SendGrid).",
    pool="sendgrid_api",
    tags={"domain": "messaging"},
)
def dispatch_email(
    context: dg.OpExecutionContext, warehouse: WarehouseResource, settings: SettingsResource
) -> dg.Output[None]:
    return dg.Output(None, metadata=_dispatch(context, warehouse, settings, "email"))


@dg.job(
    name="dispatch_outbox",
    description="Send due outbox messages (SMS via Twilio, email via SendGrid) and record what "
    "the providers answered.",
    tags={"domain": "messaging"},
    metadata={"dispatcher": "perfect_catch.messaging.dispatcher.dispatch_due"},
)
def dispatch_outbox_job() -> None:
    dispatch_sms()
    dispatch_email()
