"""The simulated world's anchor date: today by default, and moving it only shifts time."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from typing import Any

import pytest

from perfect_catch.simulators.callrail import CallRailState
from perfect_catch.simulators.gohighlevel import GhlState
from perfect_catch.simulators.servicetitan import ServiceTitanState
from perfect_catch.simulators.servicetitan.timefmt import datetime_of
from perfect_catch.simulators.timeline import ANCHOR_ENV, REFERENCE_ANCHOR, resolve_anchor

SHIFT = timedelta(days=543)
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _assert_shifted(before: Any, after: Any, path: str = "") -> int:
    """Every timestamp in `after` is `before`'s plus SHIFT; everything else is equal.
    Returns how many timestamps were compared."""
    if isinstance(before, dict):
        assert before.keys() == after.keys(), path
        return sum(_assert_shifted(before[k], after[k], f"{path}.{k}") for k in before)
    if isinstance(before, list):
        assert len(before) == len(after), path
        return sum(_assert_shifted(b, a, f"{path}[]") for b, a in zip(before, after, strict=True))
    if isinstance(before, str) and _INSTANT.match(before):
        moved = datetime.fromisoformat(after[:19]) - datetime.fromisoformat(before[:19])
        assert moved == SHIFT and after[19:] == before[19:], (path, before, after)
        return 1
    if isinstance(before, str) and _DAY.match(before):
        assert date.fromisoformat(after) - date.fromisoformat(before) == SHIFT, path
        return 1
    assert before == after, (path, before, after)
    return 0


@pytest.mark.parametrize("entity", ["customers", "jobs", "appointments", "estimates", "invoices"])
def test_moving_the_anchor_shifts_every_servicetitan_timestamp_and_nothing_else(entity) -> None:
    reference = ServiceTitanState(seed=4, anchor=REFERENCE_ANCHOR)
    moved = ServiceTitanState(seed=4, anchor=REFERENCE_ANCHOR + SHIFT)
    compared = 0
    pairs = zip(
        islice(reference.records(entity), 300), islice(moved.records(entity), 300), strict=True
    )
    for before, after in pairs:
        compared += _assert_shifted(before, after)
    assert compared >= 300
    assert datetime_of(moved.clock.now) - datetime_of(reference.clock.now) == SHIFT


def test_business_days_after_a_moved_anchor_follow_the_same_script() -> None:
    reference = ServiceTitanState(seed=4, anchor=REFERENCE_ANCHOR)
    moved = ServiceTitanState(seed=4, anchor=REFERENCE_ANCHOR + timedelta(days=7))
    assert reference.advance(1) == moved.advance(1)


def test_the_default_anchor_is_today_so_new_records_are_recent(monkeypatch) -> None:
    monkeypatch.delenv(ANCHOR_ENV, raising=False)
    today = datetime.now(UTC).date()
    assert resolve_anchor() == today
    state = ServiceTitanState(seed=4)
    assert datetime_of(state.clock.now) == datetime(
        today.year, today.month, today.day, 8, tzinfo=UTC
    )
    newest = max(r["modifiedOn"] for r in state.records("jobs"))
    assert date.fromisoformat(newest[:10]) < today
    ghl = GhlState(seed=4)
    latest_contact = max(c["dateUpdated"] for c in ghl.contacts.values())
    assert date.fromisoformat(latest_contact[:10]) <= today
    calls = CallRailState(seed=4)
    assert max(c["_start"] for c in calls.calls.values()).date() >= today - timedelta(days=1)


def test_the_environment_sets_the_anchor_and_a_bad_one_is_named(monkeypatch) -> None:
    monkeypatch.setenv(ANCHOR_ENV, "2030-01-07")
    assert ServiceTitanState(seed=4).now().startswith("2030-01-07T08:00")
    monkeypatch.setenv(ANCHOR_ENV, "next tuesday")
    with pytest.raises(ValueError, match="SIM_ANCHOR_DATE.*next tuesday"):
        ServiceTitanState(seed=4)
