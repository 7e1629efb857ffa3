"""The Messages API of the simulated Anthropic host: `POST /v1/messages`, plus admin routes."""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from perfect_catch.simulators.anthropic.state import AnthropicState
from perfect_catch.simulators.faults import FaultInjector


def _error(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"type": "error", "error": {"type": kind, "message": message}}, status)


def _tokens(value: Any) -> int:
    return max(1, len(json.dumps(value, default=str)) // 4)


def build_anthropic_app(state: AnthropicState, faults: FaultInjector) -> Starlette:
    async def messages(request: Request) -> JSONResponse:
        kind = await faults.strike()
        if kind == "429":
            return _error(429, "rate_limit_error", "Number of requests has exceeded your limit.")
        if kind == "5xx":
            return _error(529, "overloaded_error", "Overloaded")
        if kind == "timeout":
            return _error(504, "api_error", "Gateway Timeout")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        bearer = token.strip() if scheme.lower() == "bearer" else None
        if state.api_key not in (request.headers.get("x-api-key"), bearer):
            return _error(401, "authentication_error", "invalid x-api-key")
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "invalid_request_error", "body is not JSON")
        if not isinstance(body, dict):
            return _error(400, "invalid_request_error", "body must be a JSON object")
        for field in ("model", "max_tokens", "messages"):
            if field not in body:
                return _error(400, "invalid_request_error", f"{field}: Field required")
        if not body["messages"] or body["messages"][0].get("role") != "user":
            return _error(400, "invalid_request_error", "messages: first message must be user")
        content, stop_reason = state.reply(body)
        return JSONResponse(
            {
                "id": f"msg_sim_{len(state.requests):06d}",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": content,
                "stop_reason": stop_reason,
                "stop_sequence": None,
                "usage": {"input_tokens": _tokens(body), "output_tokens": _tokens(content)},
            }
        )

    async def scripts(request: Request) -> JSONResponse:
        body = await request.json()
        if not isinstance(body, dict):
            return _error(400, "invalid_request_error", "expected {name: [[blocks], ...]}")
        for name, turns in body.items():
            state.add_script(str(name), turns)
        return JSONResponse({"scripts": sorted(state.scripts)})

    async def requests(request: Request) -> JSONResponse:
        return JSONResponse({"count": len(state.requests), "requests": state.requests[-50:]})

    return Starlette(
        routes=[
            Route("/v1/messages", messages, methods=["POST"]),
            Route("/_admin/scripts", scripts, methods=["POST", "PUT"]),
            Route("/_admin/requests", requests, methods=["GET"]),
        ]
    )
