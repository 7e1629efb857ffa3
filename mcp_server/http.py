"""The MCP server over streamable HTTP, behind a bearer token.

Over stdio the client that started the server is the only caller; over HTTP anyone who reaches
the port is, so every request but `GET /health` must carry `Authorization: Bearer
<MCP_HTTP_TOKEN>` (compared in constant time). Without a token the server binds to loopback
only, as before; it refuses to listen on another address unprotected.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from mcp.server import MCPServer

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class BearerTokenGuard:
    """ASGI middleware: `/health` answers plainly, anything else needs the bearer token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)  # lifespan: the session manager starts here
            return
        if scope.get("path") == "/health":
            await _answer(send, 200, b"ok")
            return
        given = dict(scope.get("headers") or []).get(b"authorization", b"")
        if not hmac.compare_digest(given, self.expected):
            await _answer(send, 401, b"missing or wrong bearer token", bearer=True)
            return
        await self.app(scope, receive, send)


async def _answer(send: Send, status: int, body: bytes, *, bearer: bool = False) -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    if bearer:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def http_app(server: MCPServer, *, host: str, token: str) -> ASGIApp:
    """The streamable HTTP app on `/mcp`, guarded by `token` (required off loopback)."""
    if not token and host not in LOOPBACK:
        raise ValueError(
            f"MCP_HTTP_TOKEN is empty: refusing to serve MCP on {host} without a bearer token "
            "(set MCP_HTTP_TOKEN, or bind to 127.0.0.1)"
        )
    app: ASGIApp = server.streamable_http_app(host=host)
    return BearerTokenGuard(app, token) if token else app


def serve_http(server: MCPServer, *, host: str, port: int, token: str) -> None:
    """Serve `server` over streamable HTTP until stopped."""
    import uvicorn

    uvicorn.run(http_app(server, host=host, token=token), host=host, port=port, log_level="info")
