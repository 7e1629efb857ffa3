"""Simulated SendGrid: Mail Send, signed Event Webhook posts, suppressions, activity lookup."""

from __future__ import annotations

import os

from starlette.applications import Starlette

from perfect_catch.simulators.faults import FaultInjector
from perfect_catch.simulators.sendgrid.routes import build_sendgrid_app
from perfect_catch.simulators.sendgrid.state import EventPost, SendGridState, deliver

__all__ = ["EventPost", "SendGridState", "SendGridSystem", "deliver"]


class SendGridSystem:
    """The SendGrid entry of the simulator host, mounted under `/sendgrid`.

    Events are posted to `SIM_SENDGRID_EVENT_WEBHOOK_URL` (or what `/_admin/config` sets).
    """

    name = "sendgrid"
    prefix = "/sendgrid"

    def __init__(self, seed: int = 1, size: str = "small", faults: FaultInjector | None = None):
        self.state = SendGridState(
            seed=seed, event_webhook_url=os.environ.get("SIM_SENDGRID_EVENT_WEBHOOK_URL", "")
        )
        self._faults = faults or FaultInjector(seed=seed)
        self.app: Starlette = build_sendgrid_app(self.state, self._faults)

    def attach_faults(self, faults: FaultInjector) -> None:
        """Use the host's shared injector (so `/_admin/faults` reaches this system)."""
        self._faults = faults
        self.app = build_sendgrid_app(self.state, faults)

    def env(self, base_url: str) -> dict[str, str]:
        return {
            "SENDGRID_API_URL": f"{base_url}{self.prefix}",
            "SENDGRID_API_KEY": self.state.api_key,
            "SENDGRID_FROM_EMAIL": self.state.from_email,
            "SENDGRID_WEBHOOK_PUBLIC_KEY": self.state.public_key,
        }
