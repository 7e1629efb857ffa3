"""Simulated SendGrid: Mail Send, signed Event Webhook posts, suppressions, activity lookup."""

from __future__ import annotations

import os

from perfect_catch.simulators.faults import FaultInjector
from perfect_catch.simulators.sendgrid.routes import build_sendgrid_app
from perfect_catch.simulators.sendgrid.state import EventPost, SendGridState, deliver
from perfect_catch.simulators.system import MountedSystem

__all__ = ["EventPost", "SendGridState", "SendGridSystem", "deliver"]


class SendGridSystem(MountedSystem):
    """The SendGrid entry of the simulator host, mounted under `/sendgrid`.

    Events are posted to `SIM_SENDGRID_EVENT_WEBHOOK_URL` (or what `/_admin/config` sets).
    """

    name = "sendgrid"
    prefix = "/sendgrid"
    build_app = staticmethod(build_sendgrid_app)

    def __init__(self, seed: int = 1, size: str = "small", faults: FaultInjector | None = None):
        self.state = SendGridState(
            seed=seed, event_webhook_url=os.environ.get("SIM_SENDGRID_EVENT_WEBHOOK_URL", "")
        )
        self._mount(faults or FaultInjector(seed=seed))

    def env(self, base_url: str) -> dict[str, str]:
        return {
            "SENDGRID_API_URL": f"{base_url}{self.prefix}",
            "SENDGRID_API_KEY": self.state.api_key,
            "SENDGRID_FROM_EMAIL": self.state.from_email,
            "SENDGRID_WEBHOOK_PUBLIC_KEY": self.state.public_key,
        }
