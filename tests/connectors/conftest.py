"""Fixtures of the connector tests: a running simulator and a clock that never really sleeps."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from perfect_catch.connectors.http import Clock
from perfect_catch.simulators.server import SimulatorServer


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


def _reset(simulator: SimulatorServer) -> None:
    simulator.set_faults(
        rate_429=0.0,
        rate_5xx=0.0,
        rate_timeout=0.0,
        latency_ms=0,
        token_ttl_seconds=None,
        timeout_seconds=30.0,
    )


@pytest.fixture(scope="session")
def simulator() -> Iterator[SimulatorServer]:
    """One simulator host for the connector tests (small tenant, seed 1)."""
    with SimulatorServer(seed=1, size="small", port=0) as server:
        yield server


@pytest.fixture
def st_sim(simulator: SimulatorServer) -> Iterator[SimulatorServer]:
    """The simulator with no faults, no rate limit and 50-record export pages; restored after.

    Small pages make a small tenant cross many page boundaries; the rate limit is off because
    the fake clock does not really wait.
    """
    state = simulator.system("servicetitan")
    saved = (state.export_page_size, state.rate_limit)
    state.export_page_size, state.rate_limit = 50, 0
    _reset(simulator)
    try:
        yield simulator
    finally:
        _reset(simulator)
        state.export_page_size, state.rate_limit = saved
