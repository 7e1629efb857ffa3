"""The official ServiceTitan and GoHighLevel OpenAPI specs, as JSON Schema validators.

The specs live beside the checkout (`../shared/specs`). OpenAPI 3.0 marks null with
`nullable: true`, which JSON Schema does not know; every such schema is rewritten as
`anyOf: [schema, {"type": "null"}]` before validation, so a null is accepted exactly where the
spec allows it and nowhere else.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO.parent / "shared" / "specs"
METHODS = ("get", "post", "put", "patch", "delete")
# A base for the documents' URIs, so relative `$ref`s (GoHighLevel's
# `../common/common-schemas.json`) resolve as they do beside each other on disk.
BASE_URI = "https://specs.invalid/"


def normalized(path: str) -> str:
    """A path with every parameter as `{}` and no trailing slash, for comparing route tables."""
    return re.sub(r"\{[^}]*\}", "{}", path).rstrip("/") or "/"


def _nullable_to_json_schema(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _nullable_to_json_schema(value) for key, value in node.items()}
    if converted.get("nullable") is True:  # not a property that happens to be named so
        del converted["nullable"]
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@dataclass(frozen=True)
class Operation:
    """One spec operation: `module` is ServiceTitan's URL module (None for GoHighLevel)."""

    system: str
    module: str | None
    method: str
    path: str
    responses: dict[str, Any] = field(hash=False, compare=False)
    uri: str = field(compare=False)

    @property
    def key(self) -> tuple[str, str | None, str, str]:
        return (self.system, self.module, self.method, self.path)

    def schema_ref(self, status: int) -> dict[str, Any] | None:
        """The JSON body schema of this status (or of `default`), None when the spec has none."""
        response = self.responses.get(str(status)) or self.responses.get("default")
        if response is None:
            return None
        content = response.get("content") or {}
        for media in ("application/json", "text/json", "text/plain", "*/*"):
            if media in content and "schema" in content[media]:
                return content[media]["schema"]
        return None


class Specs:
    """Every operation of every spec file, and a validator per response schema."""

    def __init__(self, root: Path = SPECS) -> None:
        self.root = root
        resources: list[tuple[str, Resource[Any]]] = []
        self.operations: dict[tuple[str, str | None, str, str], Operation] = {}
        for path in sorted(root.glob("*/*.json")):
            system = path.parent.name
            raw = json.loads(path.read_text())
            uri = f"{BASE_URI}{system}/{path.name}"
            document = _nullable_to_json_schema(raw)
            resources.append((uri, DRAFT202012.create_resource(document)))
            if path.name == "common-schemas.json":
                # Where `../common/common-schemas.json` lands from a sibling file.
                resources.append((f"{BASE_URI}common/{path.name}", resources[-1][1]))
            module = None
            for server in raw.get("servers") or []:
                found = re.search(r"servicetitan\.io/([a-z-]+)", server.get("url", ""))
                if found:
                    module = found.group(1)
            for route, item in (raw.get("paths") or {}).items():
                for method, operation in item.items():
                    if method not in METHODS:
                        continue
                    op = Operation(
                        system, module, method.upper(), route, operation.get("responses") or {}, uri
                    )
                    self.operations[op.key] = op
        self.registry: Registry[Any] = Registry().with_resources(resources)

    def find(self, system: str, module: str | None, method: str, path: str) -> Operation | None:
        """The operation at `path`, whatever its parameters are named (`{id}`, `{contactId}`)."""
        wanted = normalized(path)
        for (op_system, op_module, op_method, op_path), operation in self.operations.items():
            if (op_system, op_module, op_method) == (system, module, method) and (
                normalized(op_path) == wanted
            ):
                return operation
        return None

    def errors(self, operation: Operation, status: int, body: Any) -> list[str]:
        """Every place `body` breaks the operation's schema for `status`, as readable lines."""
        if str(status) in operation.responses or "default" in operation.responses:
            schema = operation.schema_ref(status)
        elif status >= 400:
            # Operations document few of their refusals (none lists 401, 403 or 429); an
            # undocumented one must still have the system's error shape.
            schema = {"$ref": _error_schema(operation.system, status)}
        else:
            return [f"<status>: the spec lists no {status} answer"]
        if schema is None:
            return [] if body is None else [f"<body>: the spec's {status} answer has no body"]
        validator = _validator(self, operation.uri, json.dumps(schema, sort_keys=True))
        return sorted(_describe(error) for error in validator.iter_errors(body))


def _error_schema(system: str, status: int) -> str:
    """The error model of a system, for a refusal its operation does not document."""
    if system == "servicetitan":
        return "#/components/schemas/ApiErrorResponse"
    name = {400: "BadRequestDTO", 422: "UnprocessableDTO"}.get(status, "UnauthorizedDTO")
    return f"{BASE_URI}common/common-schemas.json#/components/schemas/{name}"


def _describe(error: ValidationError) -> str:
    """`path: message` of the most relevant cause (inside `anyOf`/`oneOf`, the deepest one)."""
    while error.context:
        error = max(
            error.context, key=lambda cause: (len(cause.absolute_path), -len(cause.message))
        )
    where = "/".join(str(part) for part in error.absolute_path) or "<body>"
    return f"{where}: {error.message[:200]}"


@cache
def _validator(specs: Specs, base_uri: str, schema_text: str) -> Draft202012Validator:
    schema = _absolute_refs(_nullable_to_json_schema(json.loads(schema_text)), base_uri)
    return Draft202012Validator(schema, registry=specs.registry)


def _absolute_refs(node: Any, base_uri: str) -> Any:
    """Point a response schema's refs at its spec document (it is validated outside it)."""
    if isinstance(node, list):
        return [_absolute_refs(item, base_uri) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _absolute_refs(value, base_uri) for key, value in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str):
        out["$ref"] = urljoin(base_uri, ref)
    return out
