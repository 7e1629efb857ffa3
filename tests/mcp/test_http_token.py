"""The MCP server over streamable HTTP (compose's `mcp` service) answers only callers with the
bearer token, and refuses to listen beyond loopback without one."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from mcp_server.http import http_app
from mcp_server.server import build_server
from perfect_catch.settings import load_settings

TOKEN = "a-long-random-token"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def test_only_the_bearer_token_opens_the_mcp_endpoint() -> None:
    server = build_server(settings=load_settings())
    app = http_app(server, host="0.0.0.0", token=TOKEN)
    with TestClient(app, base_url="http://mcp:8765") as client:
        assert client.get("/health").status_code == 200
        for given in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            refused = client.post("/mcp", json=INITIALIZE, headers={**HEADERS, **given})
            assert refused.status_code == 401 and TOKEN not in refused.text
        opened = client.post(
            "/mcp", json=INITIALIZE, headers={**HEADERS, "Authorization": f"Bearer {TOKEN}"}
        )
        assert opened.status_code == 200, opened.text
        assert "perfect-catch" in opened.text


def test_no_token_beyond_loopback_is_refused_naming_the_variable() -> None:
    server = build_server(settings=load_settings())
    with pytest.raises(ValueError, match="MCP_HTTP_TOKEN"):
        http_app(server, host="0.0.0.0", token="")
    http_app(server, host="127.0.0.1", token="")  # loopback stays as it was
