"""Phone numbers: the one rule that says whether a text is a phone number, and its E.164 form.

ServiceTitan contacts, GoHighLevel contacts, CallRail callers and SMS recipients are compared and
sent to in E.164 ("+16025550100"); office staff type numbers every way ("(602) 555-0100 ext 12",
"1.602.555.0100", "+44 20 7946 0958"). Google's libphonenumber (`phonenumbers`) reads the text
as written in North America (`REGION`), and the number it finds is accepted when:

- its country code is 1 (North America) and its ten digits follow the numbering plan: area code
  and exchange start with 2-9. "(123) 456-7890" and "602-055-0100" are refused here rather
  than by a carrier later, at a cost;
- any other country code: the number is written in full ("+44 ...", or after the international
  prefix 011) and `is_possible_number` says its length is a whole number of that country (a
  number dialable only locally has no E.164).

Not `is_valid_number`: it also wants the area code assigned today, and in some areas an exchange
from a list, and both change with each release of the library's metadata. It refuses
"(555) 555-0100", "(200) 555-0100" and "+1 684 555 0100", which the previous rules took and
which would stop matching the same number stored on the other side. The simulators' (480)
555-xxxx numbers are valid either way. E.164 forms computed here are stored (GHL contacts,
CallRail calls) and compared with those SQL computes over ServiceTitan contacts, so SQL must give
the same answers: `integrations.e164` (migration 0008; dbt's `normalize_phone` calls it) follows
the same reading — from the first digit or "+", an extension and a second number dropped, three
or more letters read as a keypad word, the trunk 1 and the prefix 011 stripped — and carries the
per-country lengths of the phonenumbers release it was written for.
`tests/dbt/test_phone_rule.py` feeds one table of inputs to Python, SQL and dbt. What SQL does
not know is another country's trunk prefix written inside an international number: phonenumbers
reads "+49 030 123456" as +4930123456, SQL as +49030123456; only the "(0)" of "+44 (0)20 ..." is
read alike.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

NANP_COUNTRY_CODE = 1
#: Where a number without a country code is read. Not a setting: SQL (`integrations.e164`) reads
#: such a number as North American, and every North American region reads it alike, so no other
#: value could keep Python and SQL in agreement.
REGION = "US"


class InvalidPhoneError(ValueError):
    """The text is not a phone number that can be reached; the message names it and says why."""


def _parse(value: str | None) -> phonenumbers.PhoneNumber | None:
    if value is None or not value.strip():
        return None
    try:
        return phonenumbers.parse(value, REGION)
    except NumberParseException:
        return None


def _refusal(number: phonenumbers.PhoneNumber) -> str | None:
    """Why a parsed number is not accepted, or None when it is."""
    national = phonenumbers.national_significant_number(number)
    written = f"+{number.country_code} {national}"
    if number.country_code == NANP_COUNTRY_CODE:
        if len(national) != 10:
            return f"{written} is not ten North American digits"
        if national[0] in "01" or national[3] in "01":
            return f"{written} has no valid North American area code and exchange (2-9 first)"
        return None
    if phonenumbers.is_possible_number_with_reason(number) != ValidationResult.IS_POSSIBLE:
        return f"{written} does not have the length of a whole number of that country"
    return None


def to_e164(value: str | None) -> str | None:
    """The E.164 form of `value` ("+16025550100"), or None when it is not a number we accept."""
    try:
        return require_e164(value)
    except InvalidPhoneError:
        return None


def require_e164(value: str | None) -> str:
    """The E.164 form of `value`, or `InvalidPhoneError` naming the text and saying why not."""
    number = _parse(value)
    if number is None:
        raise InvalidPhoneError(f"invalid phone number {value!r}: not a phone number")
    reason = _refusal(number)
    if reason is not None:
        raise InvalidPhoneError(f"invalid phone number {value!r}: {reason}")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)
