"""Reading a free-text job description into work lines: the pieces of work, parts and equipment
it names, with quantities. Claude reads it when an Anthropic key is configured, naming pricebook
codes where one fits; otherwise (or when Claude fails) a deterministic keyword reader splits it
into clauses, and the answer says which did the reading so a person knows to review it."""

from __future__ import annotations

import logging
import re
from typing import Any

from pydantic import BaseModel

from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.pricebook import Item, Kind, words

log = logging.getLogger(__name__)


class WorkLine(BaseModel):
    """One piece of work read from the description."""

    work: str
    quantity: float = 1.0
    kind: Kind | None = None
    sku_code: str | None = None
    search_terms: str = ""


_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_SPLIT = re.compile(r"[,;\n.]+|\band\b|\bplus\b|\balso\b|\bwith\b", re.IGNORECASE)
_QUANTITY = re.compile(r"\b(\d+(?:\.\d+)?)\s*(?:x\b)?|\b(a|an|one|two|three|four|five|six)\b", re.I)


def keyword_lines(description: str) -> list[WorkLine]:
    """Deterministic reading: one work line per clause, with the first quantity in it."""
    lines = []
    for clause in _SPLIT.split(description):
        clause = clause.strip()
        if not words(clause):
            continue
        quantity = 1.0
        match = _QUANTITY.search(clause)
        if match:
            quantity = (
                float(match.group(1)) if match.group(1) else _NUMBER_WORDS[match.group(2).lower()]
            )
        lines.append(WorkLine(work=clause, quantity=quantity or 1.0))
    return lines


_EXTRACTION_TOOL = {
    "name": "record_work",
    "description": "Record each distinct piece of work, part or equipment the job needs.",
    "input_schema": {
        "type": "object",
        "properties": {
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "work": {"type": "string", "description": "The work, in a few words."},
                        "kind": {"type": "string", "enum": ["service", "material", "equipment"]},
                        "quantity": {"type": "number"},
                        "sku_code": {
                            "type": "string",
                            "description": "Code of the pricebook item that fits, if one does.",
                        },
                        "search_terms": {"type": "string"},
                    },
                    "required": ["work", "kind", "quantity"],
                },
            }
        },
        "required": ["lines"],
    },
}


def claude_lines(context: ToolContext, description: str, items: list[Item]) -> list[WorkLine]:
    """Claude's reading of the description, as work lines naming pricebook codes."""
    client = context.anthropic_client()
    assert client is not None
    catalogue = "\n".join(f"{i.code} | {i.kind} | {i.name}" for i in items[:600])
    message = client.messages.create(
        model=context.settings.anthropic_model,
        max_tokens=2000,
        system=(
            "You turn a home-service job description into estimate lines. List each service "
            "(labour), material and piece of equipment the job needs, with a quantity. When a "
            "pricebook item fits, give its code; never invent codes or prices."
        ),
        tools=[_EXTRACTION_TOOL],  # type: ignore[list-item]
        tool_choice={"type": "tool", "name": "record_work"},
        messages=[
            {
                "role": "user",
                "content": f"Pricebook (code | kind | name):\n{catalogue}\n\nJob:\n{description}",
            }
        ],
    )
    for block in message.content:
        if getattr(block, "type", None) == "tool_use" and block.name == "record_work":
            raw_lines = (block.input or {}).get("lines") or []  # type: ignore[union-attr]
            return [WorkLine.model_validate(line) for line in raw_lines if isinstance(line, dict)]
    raise ValueError("Claude did not return work lines")


def read_description(
    context: ToolContext, description: str, items: list[Item]
) -> tuple[list[WorkLine], dict[str, Any]]:
    """The work lines of `description` and how they were read (`method`, and a `note` when the
    keyword reader stood in for Claude)."""
    extraction: dict[str, Any]
    if context.anthropic_client() is not None:
        try:
            lines = claude_lines(context, description, items)
            extraction = {"method": "claude", "model": context.settings.anthropic_model}
        except Exception as error:
            log.warning("Claude extraction failed, falling back to keywords: %s", type(error))
            lines = keyword_lines(description)
            extraction = {
                "method": "keyword_matcher",
                "note": f"Claude was unavailable ({type(error).__name__}); a deterministic "
                "keyword matcher read the description. Review the lines.",
            }
    else:
        lines = keyword_lines(description)
        extraction = {
            "method": "keyword_matcher",
            "note": "No ANTHROPIC_API_KEY: a deterministic keyword matcher (not Claude) read "
            "the description. Review the lines before confirming.",
        }
    return lines, extraction
