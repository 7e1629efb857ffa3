"""Fixtures of the workflow tests (helpers live in `workflow_support`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from workflow_support import Flow, make_flow


@pytest.fixture
def flow(events_engine: sa.Engine) -> Iterator[Flow]:
    """The shipped workflows mirrored into a fresh database with dbt's (empty) events."""
    made = make_flow(events_engine)
    yield made
    made.services.close()
