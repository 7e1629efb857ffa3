"""The MCP server: every tool of `perfect_catch.tools` and the warehouse schema, for Claude.

Nothing here decides what a tool does. Each registry tool becomes an MCP tool with the same
name, description and argument schema, and MCP annotations from its hints; a `ToolFailure`
becomes an MCP `ToolError` whose message the model reads, anything else a generic error (the
traceback stays in the server log).
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Annotated, Any, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field
from pydantic_core import PydanticUndefined

from perfect_catch.settings import Settings, SettingsError, get_settings
from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.database import describe_warehouse
from perfect_catch.tools.errors import ToolFailure
from perfect_catch.tools.registry import ToolSpec, all_tools

SCHEMA_URI = "warehouse://schema"
INSTRUCTIONS = (
    "Tools of Perfect Catch, a home-services company on ServiceTitan. Reads come from a "
    "PostgreSQL copy of ServiceTitan refreshed every few minutes (read warehouse://schema before "
    "writing SQL for query_database). Writes go to ServiceTitan itself and are then reflected in "
    "the warehouse. Look customers up before creating jobs or appointments, and confirm "
    "destructive changes (selling or dismissing estimates, price changes) with the user."
)


class _LazyContext:
    """Builds the default `ToolContext` on first use, so listing tools needs no database (nor
    valid settings: a bad one reaches the model as the first tool call's error)."""

    def __init__(self, context: ToolContext | None, settings: Settings | None) -> None:
        self._context = context
        self._settings = settings
        self._lock = threading.Lock()

    def get(self) -> ToolContext:
        with self._lock:
            if self._context is None:
                self._context = ToolContext.from_settings(self._settings or get_settings())
            return self._context


def _signature(model: type[BaseModel]) -> inspect.Signature:
    """A function signature with one keyword parameter per field of `model`, so the MCP SDK
    publishes the same argument schema as the registry (descriptions and bounds included)."""
    parameters = []
    for name, field in model.model_fields.items():
        annotation = Annotated[
            (field.annotation, *field.metadata, Field(description=field.description))
        ]
        if field.default_factory is not None:
            default: Any = field.default_factory()  # type: ignore[call-arg]
        elif field.default is PydanticUndefined:
            default = inspect.Parameter.empty
        else:
            default = field.default
        parameters.append(
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
            )
        )
    return inspect.Signature(parameters, return_annotation=dict[str, Any])


def _adapter(spec: ToolSpec, context: _LazyContext) -> Callable[..., dict[str, Any]]:
    def call(**arguments: Any) -> dict[str, Any]:
        try:
            return spec.run(context.get(), arguments)
        except (ToolFailure, SettingsError) as failure:
            raise ToolError(str(failure)) from None

    call.__name__ = spec.name
    call.__doc__ = spec.description
    call.__signature__ = _signature(spec.input_model)  # type: ignore[attr-defined]
    return call


def annotations_for(spec: ToolSpec) -> ToolAnnotations:
    """MCP behaviour hints from the registry's."""
    return ToolAnnotations(
        title=spec.title,
        read_only_hint=spec.read_only,
        destructive_hint=spec.destructive if not spec.read_only else False,
        idempotent_hint=spec.idempotent,
        open_world_hint=spec.open_world,
    )


def build_server(
    context: ToolContext | None = None, *, settings: Settings | None = None
) -> MCPServer:
    """The MCP server over every registered tool; `context` defaults to one on `settings`
    (default: this process's settings, read once)."""
    lazy = _LazyContext(context, settings)
    server: MCPServer = MCPServer(name="perfect-catch", instructions=INSTRUCTIONS)
    for spec in all_tools():
        server.add_tool(
            _adapter(spec, lazy),
            name=spec.name,
            title=spec.title,
            description=spec.description,
            annotations=annotations_for(spec),
            structured_output=True,
        )

    @server.resource(
        SCHEMA_URI,
        name="warehouse-schema",
        title="Warehouse schema",
        description="Tables and columns of the warehouse, with what each column means.",
        mime_type="text/markdown",
    )
    def warehouse_schema() -> str:
        try:
            return describe_warehouse(lazy.get().engine)
        except (ToolFailure, SettingsError) as failure:
            raise ResourceError(str(failure)) from None

    return server


def run(
    transport: Literal["stdio", "http"] = "stdio",
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    settings: Settings | None = None,
) -> None:
    """Serve on stdio (what Claude Desktop and Claude Code start) or streamable HTTP."""
    server = build_server(settings=settings)
    if transport == "stdio":
        server.run("stdio")
    elif transport == "http":
        from mcp_server.http import serve_http

        token = (settings or get_settings()).mcp_http_token.get_secret_value()
        serve_http(server, host=host, port=port, token=token)
    else:
        raise ValueError(f"unknown transport {transport!r}; use 'stdio' or 'http'")
