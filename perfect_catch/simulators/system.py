"""What the simulator host needs from each simulated external system."""

from __future__ import annotations

from typing import Any, Protocol

from starlette.types import ASGIApp


class SimulatedSystem(Protocol):
    """One external API: mounted under `prefix`, with in-process `state` for ground truth.

    Adding a system (GoHighLevel, CallRail, ...) means writing one object with this shape and
    listing its factory in `perfect_catch.simulators.app.SYSTEM_FACTORIES`.
    """

    name: str
    prefix: str
    app: ASGIApp
    state: Any

    def env(self, base_url: str) -> dict[str, str]:
        """Environment variables a client needs to use this system at `base_url` (host root)."""
        ...
