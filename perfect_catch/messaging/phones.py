"""Recipient numbers for SMS: E.164 or a clear refusal that names the number.

Normalisation itself is `perfect_catch.integrations.phones.to_e164`, the one rule shared with the
CRM matching and SQL; this module adds what a *sendable* number needs on top of it: a North
American number must have a real area code and exchange (neither starts with 0 or 1), which
is what a carrier would reject anyway, only later and at a cost.
"""

from __future__ import annotations

from perfect_catch.integrations.phones import to_e164


class InvalidPhoneError(ValueError):
    """The text cannot be turned into a number an SMS can be sent to."""


def sms_number(value: str | None) -> str:
    """The E.164 form of `value`, or `InvalidPhoneError` naming it."""
    number = to_e164(value)
    if number is None:
        raise InvalidPhoneError(f"invalid phone number {value!r}: not a number an SMS can reach")
    if number.startswith("+1") and len(number) == 12 and (number[2] in "01" or number[5] in "01"):
        raise InvalidPhoneError(
            f"invalid phone number {value!r}: {number} has no valid North American area code "
            "and exchange"
        )
    return number
