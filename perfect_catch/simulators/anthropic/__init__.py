"""Simulated Anthropic Messages API: scripted, deterministic tool-use replies for agent steps."""

from __future__ import annotations

from perfect_catch.simulators.anthropic.routes import build_anthropic_app
from perfect_catch.simulators.anthropic.state import API_KEY, AnthropicState
from perfect_catch.simulators.faults import FaultInjector
from perfect_catch.simulators.system import MountedSystem

__all__ = ["API_KEY", "AnthropicState", "AnthropicSystem"]


class AnthropicSystem(MountedSystem):
    """The Anthropic entry of the simulator host, mounted under `/anthropic`."""

    name = "anthropic"
    prefix = "/anthropic"
    build_app = staticmethod(build_anthropic_app)

    def __init__(self, seed: int = 1, size: str = "small", faults: FaultInjector | None = None):
        self.state = AnthropicState()
        self._mount(faults or FaultInjector(seed=seed))

    def env(self, base_url: str) -> dict[str, str]:
        return {
            "ANTHROPIC_BASE_URL": f"{base_url}{self.prefix}",
            "ANTHROPIC_API_KEY": self.state.api_key,
        }
