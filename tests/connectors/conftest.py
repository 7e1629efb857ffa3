"""Fixtures of the connector tests: one simulator for the folder, with small export pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from perfect_catch.simulators.server import SimulatorServer


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
