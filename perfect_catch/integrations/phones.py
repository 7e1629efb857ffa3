"""Phone numbers to E.164, the one form in which ST contacts, GHL contacts and calls are compared.

Office staff type numbers every way ("(602) 555-0100", "602.555.0100 ext 12", "1 602 555 0100");
providers send E.164. Matching on anything but a normalised form misses most matches. The rules
are the ones of `integrations.e164` in SQL (migration 0003), so both sides agree.
"""

from __future__ import annotations

import re

_EXTENSION = re.compile(r"(ext\.?|x|#).*$", re.IGNORECASE)
_NOT_DIGIT = re.compile(r"\D")


def to_e164(value: str | None) -> str | None:
    """`+1XXXXXXXXXX` for a North American number, `+<digits>` for an explicit international
    one, None when the text is not a phone number we can place."""
    if not value:
        return None
    text = value.strip()
    digits = _NOT_DIGIT.sub("", _EXTENSION.sub("", text.lower()))
    if len(digits) == 10:
        return f"+1{digits}"
    if len(digits) == 11 and digits.startswith("1"):
        return f"+{digits}"
    if text.startswith("+") and 8 <= len(digits) <= 15:
        return f"+{digits}"
    return None
