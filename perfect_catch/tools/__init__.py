"""The platform's tools for Claude: one registry, used by the MCP server and by agent steps.

`all_tools()` lists them, `call_tool(context, name, arguments)` runs one; each is a typed
function over a `ToolContext` (warehouse engine, ServiceTitan clients, settings).
"""

from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.errors import (
    ConflictError,
    NotFoundError,
    ToolFailure,
    ToolInputError,
    ToolUnavailable,
    UpstreamError,
)
from perfect_catch.tools.registry import ToolSpec, all_tools, call_tool, claude_tools, get_tool

__all__ = [
    "ConflictError",
    "NotFoundError",
    "ToolContext",
    "ToolFailure",
    "ToolInputError",
    "ToolSpec",
    "ToolUnavailable",
    "UpstreamError",
    "all_tools",
    "call_tool",
    "claude_tools",
    "get_tool",
]
