"""A ceiling on request bodies, enforced before any route reads one.

Webhook routes must read the body to check a signature, so without a ceiling anyone could make
the receiver hold an arbitrary amount of memory before it refuses them. This ASGI middleware
answers 413 at once when `Content-Length` announces too much, and otherwise counts the bytes as
the route receives them and stops at the ceiling: at most `max_bytes` is ever held, whatever the
client sends (chunked bodies included). The rest of an over-size body is never read; the server
closes the connection after the 413.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    """The request body passed the ceiling while it was being received."""


class BodyLimit:
    """Refuse request bodies over `max_bytes` with 413, without buffering them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> JSONResponse:
        return JSONResponse(
            {"error": f"request body exceeds {self.max_bytes} bytes (WEBHOOK_MAX_BODY_BYTES)"},
            413,
            headers={"Connection": "close"},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await JSONResponse({"error": "Content-Length is not a number"}, 400)(
                    scope, receive, send
                )
                return
            if length > self.max_bytes:
                await self._too_large()(scope, receive, send)
                return
        received = 0
        started = False

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except BodyTooLarge:
            if not started:
                await self._too_large()(scope, receive, send)
