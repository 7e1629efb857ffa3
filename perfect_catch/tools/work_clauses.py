"""A job description read as a technician reads it: sentences split into clauses, one piece of
work each ("replace the pump, add a salt cell and clean the filter" is three), each with its
quantity and what the words ask for. A verb carries over to the clauses after it in the same
sentence ("replace the pump, filter and heater" replaces all three).

What a clause asks for decides what it may be matched to, so nothing is priced that nothing
asked for: equipment only when something is to be installed or replaced, parts only when some
work is asked (a symptom such as "the breaker keeps tripping" is no order for a breaker),
services whenever they are named, and nothing at all in a clause that says no ("no heater",
"customer declined the light") or in what the work replaces ("instead of chlorine tabs"). A
clause saying what is wrong ("the gas heater is shot") takes no verb from the clause before."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Intent = Literal["install", "work", "none"]

_SENTENCES = re.compile(r"[.;!?\n]+")
_CLAUSES = re.compile(r",|\band\b|\bplus\b|\balso\b|\bthen\b|\bwith\b|&", re.IGNORECASE)
_INSTALL = re.compile(
    r"\b(replac\w*|install\w*|new|add\w*|upgrad\w*|swap\w*|put in|mount\w*|hang\w*|convert\w*"
    r"|supply|supplied|provide|quote|wants?|needs?|set up|hook up|changeout|change out)\b",
    re.IGNORECASE,
)
_WORK = re.compile(
    r"\b(fix\w*|repair\w*|clean\w*|wash\w*|rebuild\w*|reseal\w*|tighten\w*|run\w*|wire\w*"
    r"|service\w*|check\w*|diagnos\w*|troubleshoot\w*|inspect\w*|test\w*|treat\w*|shock\w*"
    r"|balance\w*|drain\w*|bring|start\w*|restor\w*|drop off|deliver\w*|bag|bags|bucket)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"\b(no|not|don'?t|doesn'?t|declined?|without|skip|except|keep the existing"
    r"|already has|already have)\b",
    re.IGNORECASE,
)
#: What follows these is what the work replaces, not what it needs.
_REPLACED = re.compile(r"\b(instead of|rather than|in place of)\b.*$", re.IGNORECASE)
#: A clause with a verb of state says what is wrong, and takes no verb of work from before it.
_SYMPTOM = re.compile(
    r"\b(is|are|was|were|keeps?|won'?t|died|broke|broken|leak\w*|stopped|tripp\w*|cracked|shot"
    r"|dead|out)\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "pair": 2, "couple": 2,
}  # fmt: skip
_QUANTITY = re.compile(
    r"\b(\d+(?:\.\d+)?)(?![\d.])\s*(?:x\b|pcs\b|bags?\b|boxes\b|buckets?\b|each\b)?(?!\s*(?:a\b|amp|v\b|kw|"
    r"btu|k\b|ft|in\b|lb|gal|hp|/|-))|\b(one|two|three|four|five|six|seven|eight|nine|ten|pair|"
    r"couple)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Clause:
    """One piece of work named in a description."""

    text: str
    quantity: float
    intent: Intent


def _intent(text: str) -> Intent:
    if _INSTALL.search(text):
        return "install"
    if _WORK.search(text):
        return "work"
    return "none"


def _quantity(text: str) -> float:
    match = _QUANTITY.search(text)
    if not match:
        return 1.0
    if match.group(1):
        return float(match.group(1)) or 1.0
    return float(_NUMBER_WORDS[match.group(2).lower()])


def clauses(description: str) -> list[Clause]:
    """The clauses of `description` that name work, in order (negated ones left out)."""
    found: list[Clause] = []
    for sentence in _SENTENCES.split(description):
        carried: Intent = "none"
        for part in _CLAUSES.split(sentence):
            text = _REPLACED.sub("", " ".join(part.split()).strip().lower()).strip()
            if not re.search(r"[a-z]", text):
                continue
            own = _intent(text)
            if own == "none" and _SYMPTOM.search(text):
                intent: Intent = "none"
            else:
                intent = own if own != "none" else carried
            carried = intent if own != "none" else carried
            if _NEGATION.search(text):
                continue
            found.append(Clause(text=text, quantity=_quantity(text), intent=intent))
    return found
