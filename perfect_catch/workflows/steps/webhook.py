"""`webhook`: POST to an outside URL (n8n, Zapier, ...) with an `Idempotency-Key` header.

The key is the step's (`{instance_id}:{step_key}`), so a receiver that honours it sees a
repeated POST after a crash or retry as the same delivery.
"""

from __future__ import annotations

from typing import Any

import httpx

from perfect_catch.tools.registry import jsonable
from perfect_catch.workflows.runtime import StepRun
from perfect_catch.workflows.steps.base import RetryableStepError, StepFailure, StepOutcome


def _body(run: StepRun) -> dict[str, Any]:
    if run.step.body is None:
        return {
            "workflow": run.workflow.name,
            "step": run.step.key,
            "instance_id": run.instance.id,
            "event": jsonable(run.instance.context()["event"]),
            "payload": run.instance.payload,
        }
    return {
        name: run.render(value) if isinstance(value, str) else value
        for name, value in run.step.body.items()
    }


def webhook(run: StepRun) -> StepOutcome:
    headers = {"Idempotency-Key": run.idempotency_key, "User-Agent": "perfect-catch-workflows"}
    try:
        response = run.services.http().post(run.step.url, json=_body(run), headers=headers)
    except httpx.HTTPError as error:
        raise RetryableStepError(f"webhook POST failed: {type(error).__name__}") from None
    if response.status_code in (408, 425, 429) or response.status_code >= 500:
        raise RetryableStepError(f"webhook answered {response.status_code}")
    if response.status_code >= 400:
        raise StepFailure(f"webhook refused the POST with {response.status_code}")
    return StepOutcome("succeeded", {"status_code": response.status_code})
