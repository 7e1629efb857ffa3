"""Fixtures of the connector tests: a running simulator and a clock that never really sleeps."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from perfect_catch.connectors.http import Clock


@dataclass
class FakeClock:
    """Records requested waits instead of sleeping; monotonic time still moves by them."""

    sleeps: list[float] = field(default_factory=list)
    jitter: float = 1.0

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def monotonic(self) -> float:
        return time.monotonic() + sum(self.sleeps)

    def as_clock(self) -> Clock:
        return Clock(sleep=self.sleep, monotonic=self.monotonic, random=lambda: self.jitter)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()
