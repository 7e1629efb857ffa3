"""People and places: names, addresses and phone numbers, as customers and staff records use
them."""

from __future__ import annotations

from perfect_catch.simulators.servicetitan import catalog as cat
from perfect_catch.simulators.servicetitan.records.shared import Record
from perfect_catch.simulators.servicetitan.universe import Draw, Universe

_N_FIRST, _N_LAST = len(cat.FIRST_NAMES), len(cat.LAST_NAMES)


def person_name(u: Universe, customer_index: int) -> tuple[str, str]:
    h = u.bits("customers", customer_index, 1)
    return cat.FIRST_NAMES[h % _N_FIRST], cat.LAST_NAMES[h // _N_FIRST % _N_LAST]


def name_and_type(h: int, index: int) -> tuple[str, str]:
    """A customer's name and type, from its bits of purpose 1."""
    last = cat.LAST_NAMES[h // _N_FIRST % _N_LAST]
    if h >> 100 & 127 < 12:
        return f"{last} {cat.COMPANY_SUFFIXES[index % len(cat.COMPANY_SUFFIXES)]}", "Commercial"
    return f"{cat.FIRST_NAMES[h % _N_FIRST]} {last}", "Residential"


def customer_name(u: Universe, index: int) -> str:
    return name_and_type(u.bits("customers", index, 1), index)[0]


# City, ZIP, and latitude / longitude in units of 1e-4 degree less the 1,000 of the largest
# offset: a coordinate is then one integer sum and one division, the same float as rounding
# `lat + offset / 10_000` to six places (checked for every city and offset by a test).
_CITY_PARTS = tuple(
    (city, zip_code, round(lat * 10_000) - 1000, round(lon * 10_000) - 1000)
    for city, zip_code, lat, lon in cat.CITIES
)
_N_STREETS, _N_STREET_TYPES = len(cat.STREET_NAMES), len(cat.STREET_TYPES)


def address(u: Universe, location_index: int) -> Record:
    h = u.bits("locations", location_index, 1)
    city, zip_code, lat, lon = _CITY_PARTS[h % 12]
    h //= 12
    unit = f"Unit {h % 300 + 1}" if h >> 9 & 15 == 0 else None
    h >>= 13
    number = h % 19_000 + 100
    h //= 19_000
    street = cat.STREET_NAMES[h % _N_STREETS]
    h //= _N_STREETS
    kind = cat.STREET_TYPES[h % _N_STREET_TYPES]
    h //= _N_STREET_TYPES
    return {
        "street": f"{number} {'NESW'[h & 3]} {street} {kind}",
        "unit": unit,
        "city": city,
        "state": cat.STATE,
        "zip": zip_code,
        "country": "USA",
        "latitude": (lat + (h >> 2) % 2000) / 10_000,
        "longitude": (lon + (h >> 13) % 2000) / 10_000,
    }


def phone_digits(d: Draw) -> str:
    return f"{d.pick(cat.AREA_CODES)}555{d.below(10_000):04d}"


def phone_from_bits(h: int) -> str:
    return f"{cat.AREA_CODES[h & 3]}555{(h >> 2) % 10_000:04d}"


def messy_phone(style: int, digits: str) -> str:
    """Phone numbers as office staff type them: E.164 sometimes, often not."""
    a, b, c = digits[:3], digits[3:6], digits[6:]
    match style % 8:
        case 0:
            return f"+1{digits}"
        case 1:
            return f"({a}) {b}-{c}"
        case 2:
            return f"{a}-{b}-{c}"
        case 3:
            return digits
        case 4:
            return f"{a}.{b}.{c}"
        case 5:
            return f"1 ({a}) {b} {c}"
        case 6:
            return f"{a}-{b}-{c} ext {style % 90 + 10}"
        case _:
            return f"+1 {a} {b} {c}"
