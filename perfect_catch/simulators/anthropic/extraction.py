"""How the simulated Claude answers an estimate extraction: a request offering a tool whose
lines carry `work`, `kind`, `quantity` and `sku_code`, with a pricebook table
("code | kind | name" rows) and a "Job:" description in the user message.

It reads the job as a careful technician would, clause by clause: the catalogue items each
clause names (by their words without sizes, or by the trade's words for them), equipment only
when it is installed or replaced, nothing from a clause that declines something, and the labor
that installs each piece of equipment. The answer is deterministic, so tests of the Claude path
can expect exact lines."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_ALIASES = {
    "salt cell": "salt chlorine generator",
    "salt system": "salt chlorine generator",
    "vs pump": "variable speed pump",
    "pool pump": "variable speed pump",
    "pump motor": "variable speed pump",
    "tesla": "ev charger",
    "charger": "ev charger",
    "evse": "ev charger",
    "generac": "standby generator",
    "whole-home generator": "standby generator",
    "whole house generator": "standby generator",
    "backup generator": "standby generator",
    "breaker panel": "main panel",
    "electrical panel": "main panel",
    "gas heater": "pool heater",
    "spa light": "led pool light",
    "pool light": "led pool light",
    "bulb": "led pool light bulb",
    "shaft seal": "pool pump seal kit",
    "pump seal": "pool pump seal kit",
    "algae": "green-to-clean",
    "green pool": "green-to-clean",
    "is green": "green-to-clean",
    "iaqualink": "automation system",
    "automation": "automation system",
    "clean the salt cell": "salt cell cleaner",
    "200a panel": "main panel",
    "pool controller": "automation system",
    "cartridges": "cartridge filter element",
    "cartridge element": "cartridge filter element",
    "clean the filter": "filter clean",
    "clean filter": "filter clean",
    "tabs": "chlorine tablets",
    "de powder": "de filter powder",
    "add de": "de filter powder",
    "diagnose": "diagnostic visit",
    "troubleshoot": "diagnostic visit",
    "check it out": "diagnostic visit",
    "diagnostic": "diagnostic visit",
    "weekly maintenance": "weekly pool service",
    "weekly service": "weekly pool service",
    "light fixtures": "light fixture install",
    "dimmer": "outlet / switch install",
    "outlets": "outlet / switch install",
    "shock": "pool shock",
    "muriatic": "muriatic acid",
    "o-rings": "o-ring kit",
}
_INSTALL = re.compile(
    r"\b(replac\w*|install\w*|new|add\w*|upgrad\w*|swap\w*|put in|convert\w*|quote|wants?"
    r"|needs?|hang)\b"
)
_DECLINE = re.compile(r"\b(no|not|declined?|without)\b")
_REPLACED = re.compile(r"\b(instead of|rather than)\b.*$")
_SPLIT = re.compile(r"[.;!?\n]+")
_PARTS = re.compile(r",|\band\b|\bplus\b|\balso\b|\bthen\b|\bwith\b")
_SIZE = re.compile(r"\b[0-9][0-9a-z/.]*(\s+(btu|kw|lbs?|gal|ft|in|amps?))?\b")
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "pair": 2}


@dataclass(frozen=True)
class CatalogueItem:
    code: str
    kind: str
    name: str

    @property
    def words(self) -> list[str]:
        core = _SIZE.sub(" ", self.name.lower())
        return [_stem(w) for w in re.findall(r"[a-z0-9-]+", core) if w not in ("level",)]


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def is_extraction_tool(tool: dict[str, Any]) -> bool:
    lines = ((tool.get("input_schema") or {}).get("properties") or {}).get("lines") or {}
    fields = ((lines.get("items") or {}).get("properties") or {}).keys()
    return {"work", "kind", "quantity", "sku_code"} <= set(fields)


def _catalogue(text: str) -> list[CatalogueItem]:
    items = []
    for row in text.splitlines():
        parts = [p.strip() for p in row.split("|")]
        if len(parts) == 3 and parts[1] in ("service", "material", "equipment"):
            items.append(CatalogueItem(*parts))
    return items


def _named(clause: str, item: CatalogueItem) -> bool:
    said = {_stem(w) for w in re.findall(r"[a-z0-9-]+", clause)}
    return bool(item.words) and all(w in said for w in item.words)


def _quantity(clause: str) -> float:
    match = re.search(r"\b(\d+)\b(?!\s*(amp|a\b|k\b|btu))|\b(two|three|four|pair)\b", clause)
    if not match:
        return 1.0
    return float(match.group(1)) if match.group(1) else float(_NUMBERS[match.group(3)])


def extract(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The work lines of the job in the first user message."""
    first = messages[0].get("content")
    if isinstance(first, list):
        first = " ".join(str(b.get("text", "")) for b in first if isinstance(b, dict))
    text = str(first or "")
    catalogue = _catalogue(text)
    job = text.split("Job:", 1)[-1].lower()
    lines: dict[str, dict[str, Any]] = {}
    for sentence in _SPLIT.split(job):
        carried = False
        for part in _PARTS.split(sentence):
            clause = _REPLACED.sub("", " ".join(part.split())).strip()
            own = bool(_INSTALL.search(clause))
            installs = own or (carried and not re.search(r"\b(is|keeps|won't|shot)\b", clause))
            carried = installs
            if not clause or _DECLINE.search(clause):
                continue
            expanded = clause + " " + " ".join(v for k, v in _ALIASES.items() if k in clause)
            named = [i for i in catalogue if _named(expanded, i)]
            named.sort(key=lambda i: -len(i.words))
            taken: list[CatalogueItem] = []
            for item in named:
                if item.kind == "equipment" and not installs:
                    continue
                if any(set(item.words) <= set(other.words) for other in taken):
                    continue
                taken.append(item)
            for item in taken:
                lines.setdefault(
                    item.code,
                    {
                        "work": item.name,
                        "kind": item.kind,
                        "quantity": _quantity(clause),
                        "sku_code": item.code,
                    },
                )
                if item.kind == "equipment":
                    labor = _labor_for(item, catalogue)
                    if labor is not None:
                        lines.setdefault(
                            labor.code,
                            {
                                "work": labor.name,
                                "kind": "service",
                                "quantity": _quantity(clause),
                                "sku_code": labor.code,
                            },
                        )
    return list(lines.values())


def _labor_for(item: CatalogueItem, catalogue: list[CatalogueItem]) -> CatalogueItem | None:
    """The service that installs `item`: a labor or install service sharing its key word."""
    if "salt" in item.words:
        return None
    key = item.words[-1]
    if key == "pump" and "heat" in item.words:
        key = "heater"
    for other in catalogue:
        if other.kind != "service":
            continue
        words = other.words
        if key in words and ("labor" in words or "upgrade" in words or "install" in words):
            return other
    return None
