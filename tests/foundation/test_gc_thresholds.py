"""The cyclic collector's thresholds while records stream: raised, shared, restored."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from perfect_catch.gc_thresholds import STREAMING_THRESHOLD, fewer_collections


@pytest.fixture
def default_thresholds() -> Iterator[tuple[int, int, int]]:
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*saved)


def test_raised_for_the_duration_then_restored(default_thresholds) -> None:
    with fewer_collections():
        assert gc.get_threshold() == (STREAMING_THRESHOLD, 10, 10)
    assert gc.get_threshold() == default_thresholds


def test_restored_after_an_error(default_thresholds) -> None:
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("boom")
    assert gc.get_threshold() == default_thresholds


def test_never_lowers_a_higher_setting(default_thresholds) -> None:
    gc.set_threshold(500_000, 10, 10)
    with fewer_collections():
        assert gc.get_threshold()[0] == 500_000
    assert gc.get_threshold() == (500_000, 10, 10)


def test_overlapping_users_share_one_setting_and_the_last_restores(default_thresholds) -> None:
    """Two syncs on two threads, the first to start finishing first: the second keeps the
    raised setting, and only its end restores the default."""
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[tuple[int, int, int]] = []

    def second() -> None:
        first_in.wait()
        with fewer_collections():
            second_in.set()
            first_out.wait()
            seen.append(gc.get_threshold())

    worker = threading.Thread(target=second)
    worker.start()
    with fewer_collections():
        first_in.set()
        second_in.wait()
    first_out.set()
    worker.join()
    assert seen == [(STREAMING_THRESHOLD, 10, 10)]
    assert gc.get_threshold() == default_thresholds
