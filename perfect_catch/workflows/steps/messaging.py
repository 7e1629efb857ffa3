"""`send_sms` and `send_email`: render the template and write the message to the outbox.

The outbox row is written in the transaction that marks the step done, under the key
`{instance_id}:{step_key}`, so the message exists exactly when the step is recorded as run. The
dispatcher sends it later, after its own consent and quiet-hours checks.
"""

from __future__ import annotations

from typing import Any

from perfect_catch.settings import Channel
from perfect_catch.workflows.runtime import StepRun
from perfect_catch.workflows.steps.base import StepOutcome


def enqueue_message(
    run: StepRun,
    *,
    channel: Channel,
    body: str,
    subject: str | None = None,
    html: str | None = None,
    key: str | None = None,
) -> StepOutcome:
    """Render and queue one message of `run`'s instance; skipped when there is no address."""
    to = run.address(channel)
    if not to:
        return StepOutcome("skipped", {"reason": f"the customer has no {channel} address"})
    entry = run.queue(
        run.conn,
        key=key or run.idempotency_key,
        channel=channel,
        to=to,
        body=run.render(body),
        subject=run.render(subject) if subject else None,
        html=run.render(html, html=True) if html else None,
    )
    result: dict[str, Any] = {
        "outbox_id": entry.id,
        "idempotency_key": entry.idempotency_key,
        "outbox_status": entry.status,
        "channel": channel,
    }
    if entry.status == "failed" and entry.last_error:
        return StepOutcome("skipped", {**result, "reason": entry.last_error})
    return StepOutcome("succeeded", result)


def send_sms(run: StepRun) -> StepOutcome:
    return enqueue_message(run, channel="sms", body=run.step.body)


def send_email(run: StepRun) -> StepOutcome:
    return enqueue_message(
        run, channel="email", body=run.step.body, subject=run.step.subject, html=run.step.html
    )
