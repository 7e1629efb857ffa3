"""Fixtures of the integration tests (helpers live in `integration_support`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from integration_support import start_server

from perfect_catch.simulators.server import SimulatorServer


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    """All simulators (seed 7, small), GHL with generous limits."""
    server = start_server(burst_limit=10_000)
    try:
        yield server
    finally:
        server.stop()
