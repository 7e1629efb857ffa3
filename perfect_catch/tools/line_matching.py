"""Which pricebook item is meant: a work line read from a job description (ranked candidates,
a confidence, alternatives) or a reference a person gave (id, code or name). Prices always come
from the item matched, never from whoever named it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from perfect_catch.tools.errors import NotFoundError
from perfect_catch.tools.job_reading import WorkLine
from perfect_catch.tools.pricebook import Item, rank, score, words
from perfect_catch.tools.pricing import money

#: Below this confidence a line is listed as unmatched, not priced: a wrong item on an estimate
#: costs more than a line a person fills in.
MATCH_THRESHOLD = 0.5


def match_line(line: WorkLine, items: list[Item]) -> dict[str, Any]:
    """The pricebook item for `line`, priced, with alternatives and a confidence."""
    pool = [i for i in items if line.kind is None or i.kind == line.kind] or items
    text = f"{line.work} {line.search_terms}".strip()
    ranked = rank(pool, text, 4)
    chosen: tuple[Item, float] | None = ranked[0] if ranked else None
    if line.sku_code:
        coded = [i for i in items if i.code.lower() == line.sku_code.lower()]
        if coded:
            overlap = score(coded[0], words(text))
            confidence = 0.95 if overlap >= MATCH_THRESHOLD else max(0.6, overlap)
            chosen = (coded[0], confidence)
            ranked = [chosen] + [pair for pair in ranked if pair[0] != coded[0]]
    chosen_item = chosen[0] if chosen else None
    seen = {item.id for item, _ in ranked}
    nearby = ranked + [pair for pair in rank(items, text, 6) if pair[0].id not in seen]
    alternatives = [
        {**item.as_dict(), "match": match} for item, match in nearby if item != chosen_item
    ][:3]
    if chosen is None or chosen[1] < MATCH_THRESHOLD:
        return {
            "work": line.work,
            "quantity": line.quantity,
            "matched": False,
            "confidence": chosen[1] if chosen else 0.0,
            "alternatives": [{**i.as_dict(), "match": m} for i, m in nearby[:3]],
        }
    item, confidence = chosen
    unit = money(item.price)
    return {
        "work": line.work,
        "quantity": line.quantity,
        "matched": True,
        "item": item.as_dict(),
        "unit_price": unit,
        "total": money(unit * Decimal(str(line.quantity))),
        "confidence": confidence,
        "alternatives": alternatives,
    }


def resolve_sku(items: list[Item], reference: int | str) -> Item:
    """A pricebook item by id, code or (unique) name."""
    text = str(reference).strip()
    by_id = [i for i in items if text.isdigit() and i.id == int(text)]
    by_code = [i for i in items if i.code.lower() == text.lower()]
    by_name = [i for i in items if i.name.lower() == text.lower()]
    for found in (by_id, by_code, by_name):
        if len(found) == 1:
            return found[0]
    candidates = [item for item, _ in rank(items, text, 5)]
    hint = "; ".join(f"{i.id} {i.code} {i.name}" for i in candidates)
    raise NotFoundError(
        f"no single pricebook item is {reference!r}"
        + (f"; closest: {hint}" if hint else "; use search_pricebook")
    )
