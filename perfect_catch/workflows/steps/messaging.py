"""`send_sms` and `send_email`: render the template and write the message to the outbox.

The outbox row is written in the transaction that marks the step done, under the key
`{instance_id}:{step_key}`, so the message exists exactly when the step is recorded as run. The
dispatcher sends it later, after its own consent and quiet-hours checks.
"""

from __future__ import annotations

from typing import Any

from perfect_catch.messaging import outbox
from perfect_catch.workflows.runtime import StepRun
from perfect_catch.workflows.steps.base import StepOutcome


def enqueue_message(
    run: StepRun,
    *,
    channel: str,
    body: str,
    subject: str | None = None,
    html: str | None = None,
    key: str | None = None,
) -> StepOutcome:
    """Render and queue one message of `run`'s instance; skipped when there is no address."""
    customer = run.instance.payload.get("customer") or {}
    to = customer.get("phone") if channel == "sms" else customer.get("email")
    if not to:
        return StepOutcome("skipped", {"reason": f"the customer has no {channel} address"})
    text = run.render(body)
    rendered_subject = run.render(subject) if subject else None
    rendered_html = run.render(html, html=True) if html else None
    entry = outbox.enqueue(
        run.conn,
        idempotency_key=key or run.idempotency_key,
        instance_id=run.instance.id,
        step_key=run.step.key,
        tenant_id=run.instance.tenant_id,
        customer_id=run.instance.customer_id,
        channel=channel,  # type: ignore[arg-type]
        to=str(to),
        body=text,
        subject=rendered_subject,
        html=rendered_html,
        metadata={"workflow": run.workflow.name, "event_id": run.instance.event_id},
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
