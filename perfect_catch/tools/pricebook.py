"""Matching words to pricebook items: services, materials and equipment.

The score is deterministic and explainable: the share of the query's words found in an item's
name or code (worth more) or description, with simple plural folding and synonyms that
home-service customers use. It ranks candidates for Claude's extraction and is the whole
matcher when no Anthropic key is configured.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import sqlalchemy as sa

Kind = Literal["service", "material", "equipment"]
KINDS: dict[Kind, str] = {
    "service": "pricebook.services",
    "material": "pricebook.materials",
    "equipment": "pricebook.equipment",
}
_STOPWORDS = (
    "a an and the of for to in on at with my our their is are be needs need needed new old "
    "replace replaced replacing install installed installing installation please customer wants "
    "want would like also it its this that some one two three four five six seven eight nine ten "
    "x pcs each per job work"
)
STOPWORDS = frozenset(_STOPWORDS.split())
SYNONYMS = {
    "motor": "pump",
    "receptacle": "outlet",
    "lights": "light",
    "lamp": "light",
    "chlorinator": "chlorine",
    "algae": "green",
    "cleaning": "clean",
    "cleanup": "clean",
    "diagnose": "diagnostic",
    "diagnosis": "diagnostic",
    "troubleshoot": "diagnostic",
    "inspection": "diagnostic",
    "wiring": "wire",
}
_WORD = re.compile(r"[a-z0-9]+")


def words(text: str | None) -> list[str]:
    """Lower-case content words with plurals folded and synonyms mapped."""
    result = []
    for word in _WORD.findall((text or "").lower()):
        if word in STOPWORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        result.append(SYNONYMS.get(word, word))
    return result


@dataclass(frozen=True)
class Item:
    """One pricebook item, as priced today."""

    kind: Kind
    id: int
    code: str
    name: str
    description: str
    price: Decimal
    member_price: Decimal | None
    cost: Decimal | None
    hours: Decimal | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "sku_id": self.id,
            "kind": self.kind,
            "code": self.code,
            "name": self.name,
            "price": self.price,
            "member_price": self.member_price,
            "cost": self.cost,
            "hours": self.hours,
        }


def load_items(
    conn: sa.Connection,
    tenant_id: int,
    kinds: tuple[Kind, ...] = ("service", "material", "equipment"),
) -> list[Item]:
    """The tenant's active pricebook items of `kinds`."""
    items: list[Item] = []
    for kind in kinds:
        hours = "hours" if kind == "service" else "null::numeric"
        for row in conn.execute(
            sa.text(
                f"""select id, code, display_name, description, price, member_price, cost,
                           {hours} as hours
                    from {KINDS[kind]}
                    where tenant_id = :t and deleted_at is null and coalesce(active, true)
                    order by id"""
            ),
            {"t": tenant_id},
        ):
            items.append(item_from_row(row, kind))
    return items


def item_from_row(row: Any, kind: Kind) -> Item:
    """A pricebook row (id, code, display_name, description, price, member_price, cost, hours)
    as an `Item`: the one reading of an unnamed item (its code, else its id) and a missing price."""
    return Item(
        kind=kind,
        id=row.id,
        code=row.code or "",
        name=row.display_name or row.code or str(row.id),
        description=row.description or "",
        price=row.price if row.price is not None else Decimal(0),
        member_price=row.member_price,
        cost=row.cost,
        hours=row.hours,
    )


def score(item: Item, query: list[str]) -> float:
    """0..1: how much of `query` the item covers (name and code count double)."""
    if not query:
        return 0.0
    title = set(words(item.name)) | {item.code.lower()}
    body = set(words(item.description))
    points = sum(1.0 if word in title else 0.5 if word in body else 0.0 for word in query)
    coverage = points / len(query)
    precision = len(title & set(query)) / max(len(title - {item.code.lower()}), 1)
    return round(min(1.0, 0.8 * coverage + 0.2 * precision), 3)


def rank(items: list[Item], text: str, limit: int = 5) -> list[tuple[Item, float]]:
    """The best `limit` items for `text`, best first, zero scores left out."""
    query = words(text)
    scored = [(item, score(item, query)) for item in items]
    scored = [pair for pair in scored if pair[1] > 0]
    scored.sort(key=lambda pair: (-pair[1], pair[0].kind != "service", pair[0].id))
    return scored[:limit]
