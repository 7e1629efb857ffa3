"""The contract between the engine and a step kind.

A step kind says two things besides how to run: whether it is `transactional` (all it does is
write the database, in the same transaction that records the step as done, so a crash leaves no
trace and it simply runs again) and whether it is `repeatable` after a crash (its side effect
carries an idempotency key the other side honours, so running it again cannot double it).
A step that is neither is never run twice: an interrupted run fails the instance instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from perfect_catch.workflows.runtime import StepRun


class StepFailure(Exception):
    """The step cannot succeed as configured or for this event; the message says why."""


class RetryableStepError(Exception):
    """A transient failure (timeout, 5xx, rate limit): the step is tried again later."""


@dataclass
class StepOutcome:
    """What a step did: `result` is recorded on its step run, `resume_at` delays the next step,
    `transcript` (agent steps) is stored on the instance."""

    status: Literal["succeeded", "skipped"] = "succeeded"
    result: dict[str, Any] = field(default_factory=dict)
    resume_at: datetime | None = None
    transcript: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class StepKind:
    name: str
    execute: Callable[[StepRun], StepOutcome]
    transactional: bool
    repeatable: bool
    sends_message: bool = False
