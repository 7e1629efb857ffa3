"""Simulated Anthropic Messages API: scripted, deterministic tool-use replies for agent steps."""

from __future__ import annotations

from starlette.applications import Starlette

from perfect_catch.simulators.anthropic.routes import build_anthropic_app
from perfect_catch.simulators.anthropic.state import API_KEY, AnthropicState
from perfect_catch.simulators.faults import FaultInjector

__all__ = ["API_KEY", "AnthropicState", "AnthropicSystem"]


class AnthropicSystem:
    """The Anthropic entry of the simulator host, mounted under `/anthropic`."""

    name = "anthropic"
    prefix = "/anthropic"

    def __init__(self, seed: int = 1, size: str = "small", faults: FaultInjector | None = None):
        self.state = AnthropicState()
        self.app: Starlette = build_anthropic_app(self.state, faults or FaultInjector(seed=seed))

    def attach_faults(self, faults: FaultInjector) -> None:
        """Use the host's shared injector (so `/_admin/faults` reaches this system)."""
        self.app = build_anthropic_app(self.state, faults)

    def env(self, base_url: str) -> dict[str, str]:
        return {
            "ANTHROPIC_BASE_URL": f"{base_url}{self.prefix}",
            "ANTHROPIC_API_KEY": self.state.api_key,
        }
