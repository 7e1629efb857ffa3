"""The outbox for operators, as tools: what is stuck, reconcile it, release rows by hand.

The same functions as `perfect-catch outbox ...`. Acting tools follow the usual confirm guard:
with confirm=false nothing changes and the answer shows what would be acted on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from perfect_catch.messaging import outbox_ops
from perfect_catch.messaging.providers import Providers
from perfect_catch.messaging.reconcile import reconcile
from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.registry import tool


class OutboxStatusInput(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReconcileOutboxInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    confirm: bool = Field(
        False,
        description="false: only show the rows that would be reconciled. true: ask the "
        "providers and act on their answers.",
    )


class ReleaseOutboxInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outbox_ids: list[int] = Field(
        ..., min_length=1, max_length=500, description="Ids of `unknown` rows to release."
    )
    confirm: bool = Field(
        False, description="false: only show the rows. true: release them to be sent again."
    )


@tool("outbox_status", read_only=True, idempotent=True, title="Outbox status")
def outbox_status(context: ToolContext, params: OutboxStatusInput) -> dict[str, Any]:
    """The outbox at a glance: message counts by status and channel, the oldest message still
    waiting (and why), and every `unknown` row (claimed after a crash, never proven sent) with
    its age and reason. Recipients are masked to their last 4 characters."""
    return outbox_ops.status(context.engine, now=datetime.now(UTC))


@tool("reconcile_outbox", read_only=False, idempotent=True, open_world=True, title="Reconcile")
def reconcile_outbox(context: ToolContext, params: ReconcileOutboxInput) -> dict[str, Any]:
    """Settle messages whose send is unproven (stuck `sending`, or `unknown`): the provider
    (Twilio, SendGrid) is asked about each by its idempotency key; what it holds is recorded
    sent, what it never got is released to be sent by the next pass (with opt-out, quiet-hours
    and cap checks). With confirm=false nothing changes: show the user the `unknown` rows and
    call again with confirm=true."""
    now = datetime.now(UTC)
    if not params.confirm:
        current = outbox_ops.status(context.engine, now=now)
        return {
            "unknown": current["unknown"],
            "unknown_count": current["unknown_count"],
            "next_step": "nothing was changed. Call again with confirm=true to ask the "
            "providers and mark sent or release these rows.",
        }
    report = reconcile(
        context.engine, Providers(context.settings), context.settings.messaging, now=now
    )
    return {**report.as_dict(), "summary": report.line()}


@tool(
    "release_outbox_rows",
    read_only=False,
    destructive=True,
    title="Release unknown outbox rows",
)
def release_outbox_rows(context: ToolContext, params: ReleaseOutboxInput) -> dict[str, Any]:
    """Put `unknown` outbox rows back to `pending` so they are sent again. Only after a human
    checked the provider's console that they never reached the customer: a row that was in
    fact sent is sent twice. Prefer reconcile_outbox, which asks the provider. With
    confirm=false nothing changes and the rows are shown."""
    if not params.confirm:
        listed = {
            row["id"]: row
            for row in outbox_ops.status(context.engine, now=datetime.now(UTC))["unknown"]
        }
        return {
            "rows": [
                listed.get(i, {"id": i, "note": "not unknown or not found"})
                for i in params.outbox_ids
            ],
            "next_step": "nothing was changed. Confirm with the user, then call again with "
            "confirm=true.",
        }
    outcome = outbox_ops.release(context.engine, params.outbox_ids)
    return {
        "released": [i for i, what in outcome.items() if what == "released"],
        "outcome": {str(i): what for i, what in outcome.items()},
    }
