"""Simulated CallRail (API v3): an account's calls, some from ST customers' phone numbers."""

from __future__ import annotations

from typing import Any

from perfect_catch.simulators.callrail.routes import build_callrail_app
from perfect_catch.simulators.callrail.state import ACCOUNT_ID, API_KEY, CallRailState
from perfect_catch.simulators.faults import FaultInjector
from perfect_catch.simulators.system import MountedSystem

__all__ = ["ACCOUNT_ID", "API_KEY", "CallRailState", "CallRailSystem"]


class CallRailSystem(MountedSystem):
    """The CallRail entry of the simulator host, mounted under `/callrail`."""

    name = "callrail"
    prefix = "/callrail"
    build_app = staticmethod(build_callrail_app)

    def __init__(
        self,
        seed: int = 1,
        size: str = "small",
        faults: FaultInjector | None = None,
        **options: Any,
    ) -> None:
        self.state = CallRailState(seed=seed, size=size, **options)
        self._mount(faults or FaultInjector(seed=seed))

    def env(self, base_url: str) -> dict[str, str]:
        return {
            "CALLRAIL_API_URL": f"{base_url}{self.prefix}",
            "CALLRAIL_API_KEY": self.state.api_key,
            "CALLRAIL_ACCOUNT_ID": self.state.account_id,
        }
