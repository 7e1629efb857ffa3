"""Simulated CallRail (API v3): an account's calls, some from ST customers' phone numbers."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from perfect_catch.simulators.callrail.routes import build_callrail_app
from perfect_catch.simulators.callrail.state import ACCOUNT_ID, API_KEY, CallRailState
from perfect_catch.simulators.faults import FaultInjector

__all__ = ["ACCOUNT_ID", "API_KEY", "CallRailState", "CallRailSystem"]


class CallRailSystem:
    """The CallRail entry of the simulator host, mounted under `/callrail`."""

    name = "callrail"
    prefix = "/callrail"

    def __init__(
        self,
        seed: int = 1,
        size: str = "small",
        faults: FaultInjector | None = None,
        **options: Any,
    ) -> None:
        self.state = CallRailState(seed=seed, size=size, **options)
        self._faults = faults or FaultInjector(seed=seed)
        self.app: Starlette = build_callrail_app(self.state, self._faults)

    def attach_faults(self, faults: FaultInjector) -> None:
        """Use the host's shared injector (so `/_admin/faults` reaches this system)."""
        self._faults = faults
        self.app = build_callrail_app(self.state, faults)

    def env(self, base_url: str) -> dict[str, str]:
        return {
            "CALLRAIL_API_URL": f"{base_url}{self.prefix}",
            "CALLRAIL_API_KEY": self.state.api_key,
            "CALLRAIL_ACCOUNT_ID": self.state.account_id,
        }
