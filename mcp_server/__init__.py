"""The MCP server of the platform: a thin front over `perfect_catch.tools`.

`build_server()` returns the server (for tests: `mcp.Client(build_server(context))`);
`run()` serves it on stdio or streamable HTTP.
"""

from mcp_server.server import build_server, run

__all__ = ["build_server", "run"]
