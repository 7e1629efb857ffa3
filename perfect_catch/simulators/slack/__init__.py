"""Simulated Slack incoming webhooks: `POST /services/T…/B…/<token>` with `{"text": …}`.

Like Slack it answers `ok` (200) to a known webhook, `no_service` (404) to an unknown token and
`invalid_payload` (400) to a body without text; every message accepted is kept in `state` for
tests. Faults of the shared injector apply (429 `rate_limited`, 500, hangs).
"""

from __future__ import annotations

import threading
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from perfect_catch.simulators.faults import FaultInjector
from perfect_catch.simulators.system import MountedSystem

WEBHOOK_PATH = "/services/T0SIMTEAM/B0SIMHOOK/pcSimWebhookToken000000001"


class SlackState:
    """The one webhook the simulator accepts and the messages posted to it."""

    def __init__(self, path: str = WEBHOOK_PATH) -> None:
        self.path = path
        self.messages: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def accept(self, payload: dict[str, Any]) -> None:
        with self._lock:
            self.messages.append(payload)

    def texts(self) -> list[str]:
        with self._lock:
            return [str(m.get("text", "")) for m in self.messages]


def build_slack_app(state: SlackState, faults: FaultInjector) -> Starlette:
    async def post(request: Request) -> PlainTextResponse:
        kind = await faults.strike()
        if kind == "429":
            return PlainTextResponse("rate_limited", 429, headers={"Retry-After": "1"})
        if kind is not None:
            return PlainTextResponse("internal_error", 500)
        p = request.path_params
        if f"/services/{p['team']}/{p['hook']}/{p['token']}" != state.path:
            return PlainTextResponse("no_service", 404)
        try:
            payload = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return PlainTextResponse("invalid_payload", 400)
        if not isinstance(payload, dict) or not str(payload.get("text") or "").strip():
            return PlainTextResponse("invalid_payload", 400)
        state.accept(payload)
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/services/{team}/{hook}/{token}", post, methods=["POST"])])


class SlackSystem(MountedSystem):
    """The Slack entry of the simulator host, mounted under `/slack`."""

    name = "slack"
    prefix = "/slack"
    build_app = staticmethod(build_slack_app)

    def __init__(self, seed: int = 1, size: str = "small", faults: FaultInjector | None = None):
        self.state = SlackState()
        self._mount(faults or FaultInjector(seed=seed))

    def env(self, base_url: str) -> dict[str, str]:
        return {"ALERT_SLACK_WEBHOOK_URL": f"{base_url}{self.prefix}{self.state.path}"}
