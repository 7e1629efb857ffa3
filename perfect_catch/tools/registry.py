"""The one registry of tools, shared by the MCP server and by agent steps.

A tool is a plain typed function `fn(context, params) -> dict` plus metadata: a name, a
description written for a model, behaviour hints (read-only, destructive, idempotent) and a
pydantic input model whose JSON schema is what the model sees. Fronts (MCP, Claude tool use)
are generated from this metadata, so a tool is written once and behaves the same everywhere.

`ToolSpec.run` is the single entry point: it validates the arguments, runs the function, turns
provider and database failures into `ToolFailure`s with actionable messages (never a traceback or
a secret) and returns plain JSON values.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TypeVar, get_type_hints

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError

from perfect_catch.connectors.http import ApiError
from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.errors import ToolFailure, ToolInputError, UpstreamError

log = logging.getLogger(__name__)

Params = TypeVar("Params", bound=BaseModel)
ToolFn = Callable[[ToolContext, Any], dict[str, Any]]

#: Domain modules that register tools when imported.
DOMAIN_MODULES: tuple[str, ...] = (
    "perfect_catch.tools.database",
    "perfect_catch.tools.servicetitan",
    "perfect_catch.tools.customers",
    "perfect_catch.tools.scheduling",
    "perfect_catch.tools.pricebook_tools",
    "perfect_catch.tools.estimates",
    "perfect_catch.tools.estimate_generation",
    "perfect_catch.tools.reports",
    "perfect_catch.tools.workflows",
    "perfect_catch.tools.messaging",
    "perfect_catch.tools.outbox",
    "perfect_catch.tools.suppliers",
    "perfect_catch.tools.incidents",
    "perfect_catch.tools.marketing",
    "perfect_catch.tools.customer_writes",
)


@dataclass(frozen=True)
class ToolSpec:
    """A tool: its function, its input model and what a caller should know before using it."""

    name: str
    description: str
    input_model: type[BaseModel]
    fn: ToolFn
    domain: str
    read_only: bool
    destructive: bool = False
    idempotent: bool = False
    open_world: bool = False
    title: str | None = None

    def input_schema(self) -> dict[str, Any]:
        """JSON schema of the arguments, as a model sees it."""
        return self.input_model.model_json_schema()

    def run(self, context: ToolContext, arguments: Mapping[str, Any] | BaseModel) -> dict[str, Any]:
        """Validate `arguments`, run the tool and return JSON-ready values.

        Raises only `ToolFailure`s, whose messages are safe to show a model.
        """
        try:
            if isinstance(arguments, self.input_model):
                params = arguments
            else:
                raw = arguments.model_dump() if isinstance(arguments, BaseModel) else arguments
                params = self.input_model.model_validate(dict(raw))
        except ValidationError as error:
            raise ToolInputError(f"invalid arguments for {self.name}: {describe(error)}") from None
        try:
            result = self.fn(context, params)
        except ToolFailure:
            raise
        except ApiError as error:
            raise UpstreamError(f"{self.name}: {error}; nothing was changed by this call") from None
        except ValidationError as error:
            raise ToolInputError(f"{self.name}: {describe(error)}") from None
        except sa.exc.SQLAlchemyError as error:
            log.exception("tool %s failed on the database", self.name)
            kind = type(getattr(error, "orig", None) or error).__name__
            raise ToolFailure(
                f"{self.name} failed on the warehouse database ({kind}); the error was logged"
            ) from None
        except Exception:
            log.exception("tool %s failed", self.name)
            raise ToolFailure(
                f"{self.name} failed unexpectedly; the error was logged on the server"
            ) from None
        return jsonable(result)


def describe(error: ValidationError) -> str:
    """Pydantic errors as `field: problem` pairs, without echoing the values."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "arguments"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def jsonable(value: Any) -> Any:
    """`value` with decimals, timestamps and ids turned into JSON types."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return (
            int(value)
            if value == value.to_integral_value() and abs(value) < 2**53
            else float(value)
        )
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, BaseModel):
        return jsonable(value.model_dump())
    return value


_REGISTRY: dict[str, ToolSpec] = {}


def tool(
    name: str,
    *,
    read_only: bool,
    destructive: bool = False,
    idempotent: bool = False,
    open_world: bool = False,
    title: str | None = None,
) -> Callable[[Callable[[ToolContext, Params], dict[str, Any]]], Callable[..., dict[str, Any]]]:
    """Register `fn(context, params)` as tool `name`; its docstring is the model-facing
    description and the annotation of `params` its input model."""

    def register(fn: Callable[[ToolContext, Params], dict[str, Any]]) -> Callable[..., Any]:
        hints = get_type_hints(fn)
        parameters = list(inspect.signature(fn).parameters)
        if len(parameters) != 2:
            raise TypeError(f"tool {name}: expected fn(context, params)")
        model = hints[parameters[1]]
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError(f"tool {name}: params must be annotated with a pydantic model")
        if name in _REGISTRY:
            raise ValueError(f"tool {name} is registered twice")
        _REGISTRY[name] = ToolSpec(
            name=name,
            description=inspect.cleandoc(fn.__doc__ or ""),
            input_model=model,
            fn=fn,
            domain=fn.__module__.rsplit(".", 1)[-1],
            read_only=read_only,
            destructive=destructive,
            idempotent=idempotent,
            open_world=open_world,
            title=title,
        )
        return fn

    return register


def all_tools() -> list[ToolSpec]:
    """Every registered tool, in registration order (domain modules are imported first)."""
    for module in DOMAIN_MODULES:
        importlib.import_module(module)
    return list(_REGISTRY.values())


def get_tool(name: str) -> ToolSpec:
    """The tool called `name`, or a `ToolInputError` listing the known ones."""
    tools = {spec.name: spec for spec in all_tools()}
    try:
        return tools[name]
    except KeyError:
        raise ToolInputError(
            f"unknown tool {name!r}; known tools: {', '.join(sorted(tools))}"
        ) from None


def call_tool(context: ToolContext, name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Run tool `name` with `arguments` (the entry point of agent steps)."""
    return get_tool(name).run(context, arguments)


def claude_tools(names: list[str] | None = None) -> list[dict[str, Any]]:
    """Tool definitions for the Anthropic Messages API (`tools=`), all or the named ones."""
    chosen = [get_tool(name) for name in names] if names is not None else all_tools()
    return [
        {"name": spec.name, "description": spec.description, "input_schema": spec.input_schema()}
        for spec in chosen
    ]
