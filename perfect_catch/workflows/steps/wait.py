"""`wait`: hold the workflow until an instant computed in the customer's timezone.

The instant is `from` (now, the event, or a timestamp in the payload such as
`appointment.start`) plus `offset`, then moved forward to the next `at_time` of the customer's
local day. Local times are combined with the zone's rules for that date, so "09:00" stays 09:00
across a daylight-saving change.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from perfect_catch.workflows.conditions import lookup
from perfect_catch.workflows.definitions import WaitStep
from perfect_catch.workflows.runtime import Instance, StepRun
from perfect_catch.workflows.steps.base import StepFailure, StepOutcome


def next_local_time(moment: datetime, at: time, zone: str) -> datetime:
    """The first `at` (local wall clock in `zone`) at or after `moment`, in UTC."""
    tz = ZoneInfo(zone)
    local = moment.astimezone(tz)
    candidate = datetime.combine(local.date(), at, tzinfo=tz)
    if candidate < local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=tz)
    return candidate.astimezone(UTC)


def _base(step: WaitStep, instance: Instance, now: datetime) -> datetime:
    if step.from_ == "now":
        return now
    if step.from_ == "event":
        if instance.occurred_at is None:
            raise StepFailure("the event has no occurred_at to wait from")
        return instance.occurred_at
    found, value = lookup(instance.payload, step.from_)
    if not found or value in (None, ""):
        raise StepFailure(f"the event has no {step.from_} to wait from")
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise StepFailure(f"{step.from_} is not a timestamp") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def resume_at(step: WaitStep, instance: Instance, now: datetime, zone: str) -> datetime:
    """When the step after `step` may run."""
    target = _base(step, instance, now) + step.offset
    if step.at_time is not None:
        target = next_local_time(target, step.at_time, zone)
    return target


def wait(run: StepRun) -> StepOutcome:
    until = resume_at(run.step, run.instance, run.now, run.timezone)
    return StepOutcome(
        "succeeded", {"until": until.isoformat(), "timezone": run.timezone}, resume_at=until
    )
