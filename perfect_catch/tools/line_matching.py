"""Which pricebook item is meant: the pieces of work of a job description (a draft of estimate
lines, with confidence and alternatives, from the pricebook search of `estimate_search`) or a
reference a person gave (id, code or name). Prices always come from the item matched, never
from whoever named it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from perfect_catch.tools.errors import NotFoundError
from perfect_catch.tools.estimate_search import (
    NAME_MATCH,
    Candidate,
    expand,
    install_labor,
    kind_allowed,
    search,
    trade_synonyms,
)
from perfect_catch.tools.job_reading import WorkLine
from perfect_catch.tools.pricebook import Item, rank, words
from perfect_catch.tools.pricing import money
from perfect_catch.tools.work_clauses import Clause


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


def priced_line(
    item: Item,
    quantity: float,
    work: str,
    confidence: float,
    alternatives: list[dict[str, Any]] | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """An estimate line for `item`, priced from the pricebook."""
    unit = money(item.price)
    line: dict[str, Any] = {
        "work": work,
        "quantity": quantity,
        "matched": True,
        "item": item.as_dict(),
        "unit_price": unit,
        "total": money(unit * Decimal(str(quantity))),
        "confidence": confidence,
        "alternatives": alternatives or [],
    }
    if note:
        line["note"] = note
    return line


def _shares_a_word(a: Item, b: Item) -> bool:
    return bool(set(words(a.name)) & set(words(b.name)))


class EstimateDraft:
    """Lines being drafted: one per pricebook item (a second mention raises the quantity to the
    larger one), equipment followed by the labor that installs it, and the work that matched
    nothing."""

    def __init__(self, conn: sa.Connection, tenant_id: int) -> None:
        self.conn = conn
        self.tenant_id = tenant_id
        self.lines: dict[tuple[str, int], dict[str, Any]] = {}
        self.unmatched: list[dict[str, Any]] = []

    def add(
        self,
        candidate: Candidate,
        quantity: float,
        work: str,
        others: list[Candidate],
        *,
        installs: bool = True,
    ) -> None:
        """Price `candidate`; equipment, and a part when the work `installs` it, come with the
        labor that installs them (unless that labor is on the estimate already)."""
        item = candidate.item
        key = (item.kind, item.id)
        if key in self.lines:
            if quantity > self.lines[key]["quantity"]:
                kept = self.lines[key]
                self.lines[key] = priced_line(
                    item, quantity, work, candidate.name_match, kept["alternatives"]
                )
            return
        alternatives = [
            {**other.item.as_dict(), "match": other.name_match}
            for other in others
            if other.item != item
        ][:3]
        self.lines[key] = priced_line(item, quantity, work, candidate.name_match, alternatives)
        if item.kind == "equipment" or (item.kind == "material" and installs):
            labor = install_labor(self.conn, self.tenant_id, item)
            if labor is not None and ("service", labor.id) not in self.lines:
                self.lines[("service", labor.id)] = priced_line(
                    labor, quantity, work, candidate.name_match, note=f"installs {item.name}"
                )

    def miss(self, work: str, quantity: float, others: list[Candidate]) -> None:
        self.unmatched.append(
            {
                "work": work,
                "quantity": quantity,
                "matched": False,
                "confidence": others[0].name_match if others else 0.0,
                "alternatives": [
                    {**other.item.as_dict(), "match": other.name_match} for other in others[:3]
                ],
            }
        )


def draft_from_clauses(
    conn: sa.Connection, tenant_id: int, description_clauses: list[Clause]
) -> EstimateDraft:
    """Every piece of work of a description read without Claude: per clause, each pricebook
    item whose name the clause (with its trade words) names, that the clause asks for
    (`kind_allowed`), and that is not a second reading of an item already taken."""
    synonyms = trade_synonyms(conn, tenant_id)
    said = [clause.text for clause in description_clauses]
    found = search(conn, tenant_id, said, [expand(text, synonyms) for text in said])
    draft = EstimateDraft(conn, tenant_id)
    for clause, candidates in zip(description_clauses, found, strict=True):
        chosen: list[Candidate] = []
        for candidate in candidates:
            if candidate.name_match < NAME_MATCH:
                break
            if not kind_allowed(candidate.item.kind, clause.intent):
                continue
            if any(_shares_a_word(candidate.item, other.item) for other in chosen):
                continue
            chosen.append(candidate)
        for candidate in chosen:
            draft.add(
                candidate,
                clause.quantity,
                clause.text,
                candidates,
                installs=clause.intent == "install",
            )
        if not chosen and clause.intent != "none":
            draft.miss(clause.text, clause.quantity, candidates)
    return draft


def draft_from_work_lines(
    conn: sa.Connection, tenant_id: int, lines: list[WorkLine], items: list[Item]
) -> EstimateDraft:
    """Lines Claude extracted, each matched by its pricebook code when it named one that
    exists, else by the same search as the keyword reading (within the kind Claude gave)."""
    synonyms = trade_synonyms(conn, tenant_id)
    said = [f"{line.work} {line.search_terms}".strip().lower() for line in lines]
    found = search(conn, tenant_id, said, [expand(text, synonyms) for text in said])
    by_code = {item.code.lower(): item for item in items if item.code}
    draft = EstimateDraft(conn, tenant_id)
    for line, candidates in zip(lines, found, strict=True):
        coded = by_code.get((line.sku_code or "").lower())
        if coded is not None and (line.kind is None or coded.kind == line.kind):
            draft.add(Candidate(coded, 0.95, 0.0), line.quantity, line.work, candidates)
            continue
        fitting = [
            c
            for c in candidates
            if c.name_match >= NAME_MATCH and (line.kind is None or c.item.kind == line.kind)
        ]
        if fitting:
            draft.add(fitting[0], line.quantity, line.work, candidates)
        else:
            draft.miss(line.work, line.quantity, candidates)
    return draft
