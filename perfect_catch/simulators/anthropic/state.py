"""What the simulated Anthropic API knows: the key it accepts, scripts and the requests it saw.

Replies are deterministic. A request whose system prompt contains `[sim-script:NAME]` follows
the script NAME: turn N of the conversation (N = assistant messages already in the request)
answers with the script's Nth list of content blocks, and an exhausted script ends the turn.
Without a marker, a script named after the first offered tool is followed (so a caller whose
prompt the test does not control can still be scripted); otherwise the default applies: call the
first offered tool with arguments built from its schema, then end with a short text. An estimate
extraction (a tool of work lines with pricebook codes) is answered with the lines of the job
(`extraction`), as Claude would. Built-in
script `loop` calls the first tool forever, which is what a test of turn limits needs.
"""

from __future__ import annotations

import threading
from typing import Any

from perfect_catch.simulators.anthropic.extraction import extract, is_extraction_tool

API_KEY = "sk-ant-sim-perfect-catch"
LOOP = "loop"


def example_input(schema: dict[str, Any]) -> dict[str, Any]:
    """Arguments satisfying the required fields of a JSON schema (defaults, else simple values)."""
    properties = schema.get("properties") or {}
    values: dict[str, Any] = {}
    for name in schema.get("required") or []:
        spec = properties.get(name) or {}
        if "default" in spec:
            values[name] = spec["default"]
            continue
        kind = spec.get("type")
        if kind is None and spec.get("anyOf"):
            kind = next((o.get("type") for o in spec["anyOf"] if o.get("type") != "null"), None)
        if spec.get("enum"):
            values[name] = spec["enum"][0]
        elif kind == "integer":
            values[name] = max(int(spec.get("minimum", 1)), 1)
        elif kind == "number":
            values[name] = 1.0
        elif kind == "boolean":
            values[name] = False
        elif kind == "array":
            values[name] = []
        elif kind == "object":
            values[name] = {}
        else:
            values[name] = "Hello from the simulated assistant."
    return values


class AnthropicState:
    """Scripts, the accepted API key and a log of every request (for tests)."""

    def __init__(self, api_key: str = API_KEY) -> None:
        self.api_key = api_key
        self.scripts: dict[str, list[list[dict[str, Any]]]] = {}
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._counter = 0

    def add_script(self, name: str, turns: list[list[dict[str, Any]]]) -> None:
        """Register (or replace) a script: one list of content blocks per assistant turn."""
        self.scripts[name] = turns

    def record(self, request: dict[str, Any]) -> int:
        with self._lock:
            self.requests.append(request)
            self._counter += 1
            return self._counter

    def reply(self, request: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
        """(content blocks, stop_reason) answering `request`."""
        number = self.record(request)
        system = request.get("system") or ""
        if isinstance(system, list):
            system = " ".join(str(b.get("text", "")) for b in system if isinstance(b, dict))
        tools = request.get("tools") or []
        turn = sum(1 for m in request.get("messages") or [] if m.get("role") == "assistant")
        script = _marker(str(system))
        if script is None and tools and tools[0].get("name") in self.scripts:
            script = tools[0]["name"]
        if script == LOOP and tools:
            return [self._tool_use(number, tools[0])], "tool_use"
        if script is not None and script in self.scripts:
            turns = self.scripts[script]
            if turn < len(turns):
                blocks = [self._block(number, i, b) for i, b in enumerate(turns[turn])]
                calls = any(b["type"] == "tool_use" for b in blocks)
                return blocks, "tool_use" if calls else "end_turn"
            return [{"type": "text", "text": "Done."}], "end_turn"
        if turn == 0 and tools and is_extraction_tool(tools[0]):
            lines = extract(request.get("messages") or [])
            block = {**self._tool_use(number, tools[0]), "input": {"lines": lines}}
            return [block], "tool_use"
        if turn == 0 and tools:
            return [
                {"type": "text", "text": f"I will use {tools[0]['name']}."},
                self._tool_use(number, tools[0]),
            ], "tool_use"
        return [{"type": "text", "text": "Done: the goal is handled."}], "end_turn"

    def _tool_use(self, number: int, tool: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "tool_use",
            "id": f"toolu_sim_{number:06d}_0",
            "name": tool["name"],
            "input": example_input(tool.get("input_schema") or {}),
        }

    def _block(self, number: int, index: int, block: dict[str, Any]) -> dict[str, Any]:
        if block.get("type") == "tool_use":
            return {
                "type": "tool_use",
                "id": block.get("id") or f"toolu_sim_{number:06d}_{index}",
                "name": block["name"],
                "input": block.get("input") or {},
            }
        return {"type": "text", "text": str(block.get("text", ""))}


def _marker(system: str) -> str | None:
    start = system.find("[sim-script:")
    if start < 0:
        return None
    end = system.find("]", start)
    return system[start + len("[sim-script:") : end].strip() if end > start else None
