"""Step kinds, by the `type` a workflow YAML gives them.

Adding a kind is one module with an `execute(run) -> StepOutcome` function, one model in
`definitions.py` and one entry here.
"""

from __future__ import annotations

from perfect_catch.workflows.steps.agent import agent
from perfect_catch.workflows.steps.base import (
    RetryableStepError,
    StepFailure,
    StepKind,
    StepOutcome,
)
from perfect_catch.workflows.steps.ghl import ghl_update
from perfect_catch.workflows.steps.messaging import send_email, send_sms
from perfect_catch.workflows.steps.servicetitan import servicetitan
from perfect_catch.workflows.steps.wait import wait
from perfect_catch.workflows.steps.webhook import webhook

__all__ = ["KINDS", "RetryableStepError", "StepFailure", "StepKind", "StepOutcome"]

KINDS: dict[str, StepKind] = {
    kind.name: kind
    for kind in (
        StepKind("send_sms", send_sms, transactional=True, repeatable=True, sends_message=True),
        StepKind("send_email", send_email, transactional=True, repeatable=True, sends_message=True),
        StepKind("wait", wait, transactional=True, repeatable=True),
        StepKind("ghl_update", ghl_update, transactional=False, repeatable=True),
        StepKind("webhook", webhook, transactional=False, repeatable=True),
        StepKind("servicetitan", servicetitan, transactional=False, repeatable=False),
        StepKind("agent", agent, transactional=False, repeatable=False),
    )
}
