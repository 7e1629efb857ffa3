"""Interpreter settings while records stream: set, shared by overlapping users, restored."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator

import pytest

from perfect_catch.streaming import GC_THRESHOLD, SWITCH_INTERVAL, streaming


@pytest.fixture
def defaults() -> Iterator[tuple[tuple[int, int, int], float]]:
    saved = gc.get_threshold(), sys.getswitchinterval()
    gc.set_threshold(700, 10, 10)
    sys.setswitchinterval(0.005)
    yield gc.get_threshold(), sys.getswitchinterval()
    gc.set_threshold(*saved[0])
    sys.setswitchinterval(saved[1])


def _now() -> tuple[tuple[int, int, int], float]:
    return gc.get_threshold(), sys.getswitchinterval()


def test_set_for_the_duration_then_restored(defaults) -> None:
    with streaming():
        assert gc.get_threshold() == (GC_THRESHOLD, 10, 10)
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL, abs=1e-6)
    assert _now() == defaults


def test_restored_after_an_error(defaults) -> None:
    with pytest.raises(RuntimeError), streaming():
        raise RuntimeError("boom")
    assert _now() == defaults


def test_never_undoes_a_setting_that_already_goes_further(defaults) -> None:
    gc.set_threshold(500_000, 10, 10)
    sys.setswitchinterval(0.0002)
    with streaming():
        assert gc.get_threshold()[0] == 500_000
        assert sys.getswitchinterval() == pytest.approx(0.0002, abs=1e-6)
    assert gc.get_threshold() == (500_000, 10, 10)
    assert sys.getswitchinterval() == pytest.approx(0.0002, abs=1e-6)


def test_overlapping_users_share_the_settings_and_the_last_restores(defaults) -> None:
    """Two syncs on two threads, the first to start finishing first: the second keeps the
    settings, and only its end restores the defaults."""
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[tuple[tuple[int, int, int], float]] = []

    def second() -> None:
        first_in.wait()
        with streaming():
            second_in.set()
            first_out.wait()
            seen.append(_now())

    worker = threading.Thread(target=second)
    worker.start()
    with streaming():
        first_in.set()
        second_in.wait()
    first_out.set()
    worker.join()
    assert seen == [((GC_THRESHOLD, 10, 10), pytest.approx(SWITCH_INTERVAL, abs=1e-6))]
    assert _now() == defaults
