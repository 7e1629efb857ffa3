"""The time zone of a message's recipient: decided once, when the message is queued.

Quiet hours (TCPA) are the recipient's local time, a daily cap counts the recipient's day, and a
text that names a time must name it in the same clock. So the zone is resolved once, stored on
the outbox row with where it came from (`recipient_timezone`, `recipient_timezone_source`: an
operator can see why a message waited), and everything after reads it from there.

Order, first answer wins:
1. `workflow`: the workflow's own `timezone` (a business decision that overrides the data);
2. `caller`: a zone a tool or caller passed explicitly (message metadata `timezone`);
3. `location`: the customer's service location (the job's, else the customer's first active
   one): its coordinates through `timezonefinder`, else its state and ZIP code (a state in one
   zone decides alone; in a state split between zones the first three digits of the ZIP code
   pick the side, for the regions listed in `SPLIT_STATES`);
4. `phone`: the phone number's zone when `phonenumbers` gives exactly one;
5. `tenant`: the tenant's default (`MESSAGING_TENANT_TIMEZONES`, else `ST_TIMEZONE`).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import sqlalchemy as sa
from phonenumbers import timezone as phone_zones

from perfect_catch.settings import MessagingSettings, Settings

#: US states (and DC) that lie in a single zone, for locations without coordinates.
STATE_ZONES: dict[str, str] = {
    **dict.fromkeys(
        ("CT", "DE", "DC", "GA", "ME", "MD", "MA", "NH", "NJ", "NY", "NC", "OH", "PA", "RI"),
        "America/New_York",
    ),
    **dict.fromkeys(("SC", "VT", "VA", "WV"), "America/New_York"),
    **dict.fromkeys(
        ("AL", "AR", "IL", "IA", "LA", "MN", "MS", "MO", "OK", "WI"), "America/Chicago"
    ),
    **dict.fromkeys(("CO", "MT", "NM", "UT", "WY"), "America/Denver"),
    "AZ": "America/Phoenix",
    **dict.fromkeys(("CA", "NV", "WA"), "America/Los_Angeles"),
    "HI": "Pacific/Honolulu",
}
#: States split between zones: (the zone of most of the state, {ZIP prefix: zone of that
#: region}). Prefixes are the first three digits of the ZIP code (USPS sectional centers).
SPLIT_STATES: dict[str, tuple[str, dict[str, str]]] = {
    "TX": ("America/Chicago", dict.fromkeys(("798", "799", "885"), "America/Denver")),
    "FL": ("America/New_York", dict.fromkeys(("324", "325"), "America/Chicago")),
    "IN": (
        "America/Indiana/Indianapolis",
        dict.fromkeys(("463", "464", "476", "477"), "America/Chicago"),
    ),
    "KY": (
        "America/New_York",
        dict.fromkeys(("420", "421", "422", "423", "424"), "America/Chicago"),
    ),
    "TN": (
        "America/Chicago",
        dict.fromkeys(("373", "374", "376", "377", "378", "379"), "America/New_York"),
    ),
    "MI": ("America/Detroit", {}),
    "ND": ("America/Chicago", {}),
    "SD": ("America/Chicago", {"577": "America/Denver"}),
    "NE": ("America/Chicago", {"693": "America/Denver"}),
    "KS": ("America/Chicago", {}),
    "OR": ("America/Los_Angeles", {"979": "America/Boise"}),
    "ID": ("America/Boise", dict.fromkeys(("835", "838"), "America/Los_Angeles")),
    "AK": ("America/Anchorage", {}),
}


@dataclass(frozen=True)
class RecipientZone:
    """A recipient's IANA zone and the rule that chose it."""

    name: str
    source: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.name)


def tenant_timezone(settings: Settings, messaging: MessagingSettings, tenant_id: int) -> str:
    """The tenant's default zone: `MESSAGING_TENANT_TIMEZONES`, else `ST_TIMEZONE`."""
    return messaging.messaging_tenant_timezones.get(tenant_id, settings.st_timezone)


def _valid(name: object) -> str | None:
    if not isinstance(name, str) or not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


_finder_lock = threading.Lock()


@functools.cache
def _finder() -> Any:
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


def zone_at(latitude: float, longitude: float) -> str | None:
    """The zone at a coordinate (None at sea or for an impossible coordinate)."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    with _finder_lock:
        return _valid(_finder().timezone_at(lat=latitude, lng=longitude))


def phone_zone(phone: str | None) -> str | None:
    """The phone number's zone when its numbering plan places it in exactly one."""
    if not phone:
        return None
    try:
        parsed = phonenumbers.parse(phone, "US")
    except phonenumbers.NumberParseException:
        return None
    zones = [z for z in phone_zones.time_zones_for_number(parsed) if z != "Etc/Unknown"]
    return _valid(zones[0]) if len(zones) == 1 else None


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def address_zone(address: dict[str, Any] | None) -> tuple[str, str] | None:
    """(zone, how) for a ServiceTitan address: its coordinates, else its state."""
    if not address:
        return None
    lat, lon = _number(address.get("latitude")), _number(address.get("longitude"))
    if lat is not None and lon is not None and (lat, lon) != (0.0, 0.0):
        found = zone_at(lat, lon)
        if found:
            return found, "location coordinates"
    state = str(address.get("state") or "").strip().upper()
    if state in STATE_ZONES:
        return STATE_ZONES[state], "location state"
    if state in SPLIT_STATES:
        most, regions = SPLIT_STATES[state]
        zip_code = str(address.get("zip") or "").strip()
        return regions.get(zip_code[:3], most), "location state and zip"
    return None


def _location_address(
    conn: sa.Connection, tenant_id: int, customer_id: int | None, job_id: int | None
) -> dict[str, Any] | None:
    if customer_id is None and job_id is None:
        return None
    return conn.execute(
        sa.text(
            "select l.raw -> 'address' from servicetitan.st_locations l"
            " where l.tenant_id = :tenant and l.deleted_at is null and ("
            " l.id = (select j.location_id from servicetitan.st_jobs j"
            "         where j.tenant_id = :tenant and j.id = :job)"
            " or l.customer_id = :customer)"
            " order by (l.id = (select j.location_id from servicetitan.st_jobs j"
            "          where j.tenant_id = :tenant and j.id = :job)) desc nulls last,"
            " coalesce(l.active, true) desc, l.id limit 1"
        ),
        {"tenant": tenant_id, "customer": customer_id, "job": job_id},
    ).scalar()


def resolve(
    conn: sa.Connection,
    *,
    tenant_id: int,
    customer_id: int | None,
    phone: str | None,
    tenant_default: str | None,
    workflow_timezone: str | None = None,
    caller_timezone: str | None = None,
    job_id: int | None = None,
) -> RecipientZone | None:
    """The recipient's zone by the rules of the module docstring; None only when no rule
    applies and no tenant default is given (the dispatcher then uses the tenant's)."""
    if name := _valid(workflow_timezone):
        return RecipientZone(name, "workflow")
    if name := _valid(caller_timezone):
        return RecipientZone(name, "caller")
    located = address_zone(_location_address(conn, tenant_id, customer_id, job_id))
    if located:
        return RecipientZone(*located)
    if name := phone_zone(phone):
        return RecipientZone(name, "phone")
    if name := _valid(tenant_default):
        return RecipientZone(name, "tenant")
    return None
