"""Claude's reading of a free-text job description: a structured extraction (tool use) of the
pieces of work, parts and equipment it names, with quantities and the pricebook codes that fit.
Without a key (or when Claude fails) `work_clauses` reads the description instead; either way
each line is then matched by the same pricebook search (`line_matching`)."""

from __future__ import annotations

from pydantic import BaseModel

from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.pricebook import Item, Kind


class WorkLine(BaseModel):
    """One piece of work read from the description."""

    work: str
    quantity: float = 1.0
    kind: Kind | None = None
    sku_code: str | None = None
    search_terms: str = ""


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
