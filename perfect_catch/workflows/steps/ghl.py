"""`ghl_update`: move the event's GoHighLevel opportunity to the stage ServiceTitan implies.

The push functions are idempotent (link tables, forward-only stages), so a step interrupted
mid-call is simply pushed again.
"""

from __future__ import annotations

from perfect_catch.integrations import ghl_pusher
from perfect_catch.workflows.runtime import StepRun
from perfect_catch.workflows.steps.base import RetryableStepError, StepOutcome


def ghl_update(run: StepRun) -> StepOutcome:
    entity = run.step.entity
    entity_id = getattr(run.instance, f"{entity}_id")
    if entity_id is None:
        return StepOutcome("skipped", {"reason": f"the event has no {entity}"})
    push = {
        "estimate": ghl_pusher.push_estimate,
        "job": ghl_pusher.push_job,
        "customer": ghl_pusher.push_customer,
        "appointment": ghl_pusher.push_appointment,
    }[entity]
    outcome = push(
        run.services.engine,
        run.services.ghl(),
        run.instance.tenant_id,
        int(entity_id),
        settings=run.services.settings,
        run_id=f"workflow:{run.instance.id}:{run.step.key}",
    )
    result = {"entity": entity, "id": entity_id, "outcome": outcome.outcome}
    if outcome.ghl_id:
        result["ghl_id"] = outcome.ghl_id
    if outcome.detail:
        result["detail"] = outcome.detail
    if outcome.outcome == "failed":
        raise RetryableStepError(f"GHL push of {entity} {entity_id} failed: {outcome.detail}")
    return StepOutcome("skipped" if outcome.outcome == "skipped" else "succeeded", result)
