"""`servicetitan`: the writes a workflow may make in ServiceTitan, and only these: a note on the
job or customer, a task, a customer tag. Anything else is a tool for a person, not a workflow.

A ServiceTitan write has no idempotency key, so this step is never repeated after a crash.
"""

from __future__ import annotations

from typing import Any

from perfect_catch.connectors.http import ApiError
from perfect_catch.workflows.runtime import StepRun
from perfect_catch.workflows.steps.base import RetryableStepError, StepFailure, StepOutcome


def servicetitan(run: StepRun) -> StepOutcome:
    step, instance = run.step, run.instance
    target_id = instance.job_id if step.target == "job" else instance.customer_id
    if target_id is None:
        return StepOutcome("skipped", {"reason": f"the event has no {step.target}"})
    text = run.render(step.text) if step.text else None
    if step.action == "note":
        module, path = (
            ("jpm", f"jobs/{target_id}/notes")
            if step.target == "job"
            else (
                "crm",
                f"customers/{target_id}/notes",
            )
        )
        body: Any = {"text": text, "pinToTop": step.pin_to_top}
    elif step.action == "tag":
        module, path, body = "crm", f"customers/{target_id}/tags/{step.tag_type_id}", None
    else:
        module, path = "taskmanagement", "tasks"
        body = {**(step.task or {}), "body": text, "customerId": instance.customer_id}
        if instance.job_id is not None:
            body["jobId"] = instance.job_id
    try:
        with run.services.tool_context().servicetitan(instance.tenant_id) as client:
            answer = client.post(module, path, json=body)
    except ApiError as error:
        status = getattr(error, "status", None)
        if status is None or status == 429 or status >= 500:
            raise RetryableStepError(f"ServiceTitan {step.action}: {error}") from None
        raise StepFailure(f"ServiceTitan refused the {step.action}: {error}") from None
    result: dict[str, Any] = {"action": step.action, "target": step.target, "id": target_id}
    if isinstance(answer, dict) and "id" in answer:
        result["record_id"] = answer["id"]
    return StepOutcome("succeeded", result)
