"""What the simulator host needs from each simulated external system."""

from __future__ import annotations

from typing import Any, Protocol

from starlette.types import ASGIApp

from perfect_catch.simulators.faults import FaultInjector


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


class MountedSystem:
    """The plumbing every simulated system shares: its ASGI app is built from its state and a
    fault injector, and built again when the host hands over its shared injector.

    A subclass sets `name`, `prefix`, `state` and `build_app`, then calls `_mount`.
    """

    name: str
    prefix: str
    state: Any
    app: ASGIApp

    def build_app(self, state: Any, faults: FaultInjector) -> ASGIApp:
        raise NotImplementedError

    def _mount(self, faults: FaultInjector) -> None:
        self.app = self.build_app(self.state, faults)

    def attach_faults(self, faults: FaultInjector) -> None:
        """Use the host's shared injector (so `/_admin/faults` reaches this system)."""
        self._mount(faults)
