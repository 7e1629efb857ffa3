"""`agent`: the Claude tool-use loop, or its template fallback when no API key is configured.

The `anthropic` SDK is imported when an agent step runs, not when the engine is imported: it
takes seconds to import, and every Dagster run of any workflow loads the engine.
"""

from __future__ import annotations

from perfect_catch.workflows.runtime import StepRun
from perfect_catch.workflows.steps.base import RetryableStepError, StepFailure, StepOutcome
from perfect_catch.workflows.steps.messaging import enqueue_message


def _fallback(run: StepRun) -> StepOutcome:
    fallback = run.step.fallback
    if fallback is None:
        return StepOutcome("skipped", {"reason": "no ANTHROPIC_API_KEY and no fallback"})
    with run.services.engine.begin() as conn:
        outcome = enqueue_message(
            StepRun(conn, run.instance, run.workflow, run.step, run.now, run.services),
            channel="sms" if fallback.type == "send_sms" else "email",
            body=fallback.body,
            subject=getattr(fallback, "subject", None),
            html=getattr(fallback, "html", None),
        )
    outcome.result["fallback"] = True
    return outcome


def agent(run: StepRun) -> StepOutcome:
    client = run.services.anthropic()
    if client is None:
        return _fallback(run)
    import anthropic

    from perfect_catch.workflows.agent import run_agent

    try:
        result = run_agent(run, client)
    except (anthropic.RateLimitError, anthropic.InternalServerError, anthropic.APIConnectionError):
        raise RetryableStepError("the Anthropic API is unavailable; will try again") from None
    except anthropic.APIStatusError as error:
        raise StepFailure(f"the Anthropic API refused the call ({error.status_code})") from None
    return StepOutcome(
        "succeeded",
        {
            "stop_reason": result.stop_reason,
            "turns": result.turns,
            "tokens": result.tokens,
            "tool_calls": result.tool_calls,
            "messages_queued": result.messages_queued,
            "final_text": result.final_text[:2000],
        },
        transcript=result.transcript,
    )
