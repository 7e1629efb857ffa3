"""Simulated Twilio Programmable Messaging: sends, status callbacks, inbound texts, opt-outs."""

from __future__ import annotations

import os

from perfect_catch.simulators.faults import FaultInjector
from perfect_catch.simulators.system import MountedSystem
from perfect_catch.simulators.twilio.routes import build_twilio_app
from perfect_catch.simulators.twilio.state import TwilioState, Webhook, deliver

__all__ = ["TwilioState", "TwilioSystem", "Webhook", "deliver"]


class TwilioSystem(MountedSystem):
    """The Twilio entry of the simulator host, mounted under `/twilio`.

    Inbound texts are posted to `SIM_TWILIO_INBOUND_URL` (or what `/_admin/config` sets).
    """

    name = "twilio"
    prefix = "/twilio"
    build_app = staticmethod(build_twilio_app)

    def __init__(self, seed: int = 1, size: str = "small", faults: FaultInjector | None = None):
        self.state = TwilioState(
            seed=seed, inbound_url=os.environ.get("SIM_TWILIO_INBOUND_URL", "")
        )
        self._mount(faults or FaultInjector(seed=seed))

    def env(self, base_url: str) -> dict[str, str]:
        return {
            "TWILIO_API_URL": f"{base_url}{self.prefix}",
            "TWILIO_ACCOUNT_SID": self.state.account_sid,
            "TWILIO_AUTH_TOKEN": self.state.auth_token,
            "TWILIO_FROM_NUMBER": self.state.from_number,
        }
