"""Simulated GoHighLevel (API v2): contacts, opportunities, pipelines, GHL's rate limits."""

from __future__ import annotations

from typing import Any

from perfect_catch.simulators.faults import FaultInjector
from perfect_catch.simulators.gohighlevel.routes import build_gohighlevel_app
from perfect_catch.simulators.gohighlevel.state import LOCATION_ID, TOKEN, GhlState
from perfect_catch.simulators.system import MountedSystem

__all__ = ["LOCATION_ID", "TOKEN", "GhlState", "GoHighLevelSystem"]


class GoHighLevelSystem(MountedSystem):
    """The GoHighLevel entry of the simulator host, mounted under `/gohighlevel`.

    Keyword options (`contact_count`, `burst_limit`, `daily_limit`, ...) go to `GhlState`, so a
    test can build a location of 10,000 contacts or one whose daily limit runs out quickly.
    """

    name = "gohighlevel"
    prefix = "/gohighlevel"
    build_app = staticmethod(build_gohighlevel_app)

    def __init__(
        self,
        seed: int = 1,
        size: str = "small",
        faults: FaultInjector | None = None,
        **options: Any,
    ) -> None:
        self.state = GhlState(seed=seed, size=size, **options)
        self._mount(faults or FaultInjector(seed=seed))

    def env(self, base_url: str) -> dict[str, str]:
        return {
            "GHL_API_URL": f"{base_url}{self.prefix}",
            "GHL_TOKEN": self.state.token,
            "GHL_LOCATION_ID": self.state.location_id,
        }
