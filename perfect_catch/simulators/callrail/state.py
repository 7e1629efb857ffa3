"""What the simulated CallRail account knows: its calls, seeded and changeable.

About a third of the calls come from phone numbers of the simulated ServiceTitan tenant's
customers (same seed and size), written in the mixed formats a call log shows, so linking calls
to customers can be tested against ground truth: `st_customer_ids[call_id]` lists the customers
whose contacts carry that number (for a large tenant, among the sampled contacts only).
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from perfect_catch.simulators.servicetitan.records.crm import customer_contact
from perfect_catch.simulators.servicetitan.state import DEFAULT_TENANT_ID
from perfect_catch.simulators.servicetitan.universe import Universe
from perfect_catch.simulators.timeline import resolve_anchor

ACCOUNT_ID = "ACC8154748ae6bd4e278a7cddd38a662f4f"
API_KEY = "crk-perfect-catch-sim-key"
COMPANY_ID = "COM8154748ae6bd4e278a7cddd38a662f4f"
CALL_COUNTS = {"small": 150, "medium": 1200, "large": 12_000}
HISTORY_DAYS = 60
ACCOUNT_TZ = timezone(timedelta(hours=-7))
_SOURCES = ("Google Ads", "Google Organic", "Direct", "Facebook", "Yelp", "Website")
_LEAD_STATUSES = ("good_lead", "not_a_lead", None)
_NAMES = ("ANA RIVERA", "BEN CHEN", "CARA OKAFOR", "DEV SMITH", "ELI NGUYEN", "FAY PATEL")


def _bits(seed: int, index: int) -> int:
    data = f"{seed}:call:{index}".encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest())


def formatted(digits: str, style: int) -> str:
    """A ten-digit number in one of the formats call logs and CRMs show."""
    a, b, c = digits[:3], digits[3:6], digits[6:]
    return (f"+1{digits}", f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"1{digits}", f"+1 {a}-{b}-{c}")[
        style % 5
    ]


FULL_SCAN_LIMIT = 50_000


def _phone_of(universe: Universe, index: int) -> tuple[str, int] | None:
    contact = customer_contact(universe, index)
    settings = contact.get("phoneSettings") or {}
    if contact["type"] != "Email" and settings.get("phoneNumber"):
        return settings["phoneNumber"], contact["customerId"]
    return None


def st_customer_phones(seed: int, size: str, wanted: int) -> list[tuple[str, int]]:
    """(ten digits, customer id) of phone contacts of the simulated ST tenant: all of them for
    small and medium tenants, an evenly spread sample of about `wanted` for large ones (whose
    millions of contacts would make start-up slow)."""
    universe = Universe(seed, DEFAULT_TENANT_ID, size)
    count = universe.counts["customer-contacts"]
    if count <= FULL_SCAN_LIMIT:
        indexes = range(count)
    else:
        indexes = range(0, count, max(1, count // max(1, wanted * 2)))
    return [phone for phone in (_phone_of(universe, i) for i in indexes) if phone]


class CallRailState:
    """One simulated CallRail account: credentials and calls."""

    def __init__(
        self,
        seed: int = 1,
        size: str = "small",
        *,
        call_count: int | None = None,
        anchor: date | str | None = None,
        account_id: str = ACCOUNT_ID,
        api_key: str = API_KEY,
    ) -> None:
        self.seed = seed
        self.size = size
        self.account_id = account_id
        self.api_key = api_key
        self.lock = threading.RLock()
        # The call log runs to the end of the simulators' anchor day (`simulators.timeline`).
        self.anchor = datetime.combine(resolve_anchor(anchor) + timedelta(days=1), time(), UTC)
        self.call_count = CALL_COUNTS[size] if call_count is None else call_count
        self.st_customer_ids: dict[str, list[int]] = {}
        self.calls: dict[str, dict[str, Any]] = {}
        self._generate()

    def _generate(self) -> None:
        phones = st_customer_phones(self.seed, self.size, self.call_count // 3 + 1)
        customers_by_digits: dict[str, list[int]] = {}
        for digits, customer_id in phones:
            customers_by_digits.setdefault(digits, []).append(customer_id)
        span = HISTORY_DAYS * 86_400
        start = self.anchor - timedelta(seconds=span)
        for i in range(self.call_count):
            h = _bits(self.seed, i)
            if phones and i % 3 == 0:
                digits = phones[(h >> 4) % len(phones)][0]
            else:
                digits = f"505{(h >> 4) % 1000:03d}{(h >> 16) % 10_000:04d}"
            when = start + timedelta(seconds=(i * span) // max(1, self.call_count) + h % 600)
            call = self._call(i, h, digits, when)
            self.calls[call["id"]] = call
            self.st_customer_ids[call["id"]] = sorted(set(customers_by_digits.get(digits, [])))

    def _call(self, i: int, h: int, digits: str, when: datetime) -> dict[str, Any]:
        call_id = "CAL" + hashlib.blake2b(f"{self.seed}:{i}".encode(), digest_size=16).hexdigest()
        answered = (h >> 24) % 5 != 0
        duration = (h >> 28) % 900 if answered else 0
        recorded = answered and (h >> 40) % 3 != 0
        tracking = f"+1480555{(h >> 44) % 10:01d}0{(h >> 48) % 10:01d}0"
        recording = (
            f"https://api.callrail.com/v3/a/{self.account_id}/calls/{call_id}/recording.json"
        )
        return {
            "id": call_id,
            "answered": answered,
            "business_phone_number": "+14805550100",
            "customer_city": "Phoenix",
            "customer_country": "US",
            "customer_name": _NAMES[(h >> 52) % len(_NAMES)],
            "customer_phone_number": formatted(digits, h >> 56),
            "customer_state": "AZ",
            "direction": "outbound" if (h >> 60) % 8 == 0 else "inbound",
            "duration": duration,
            "recording": recording if recorded else None,
            "recording_duration": str(duration) if recorded else None,
            "recording_player": f"https://app.callrail.com/calls/{call_id}/recording?access_key=sim"
            if recorded
            else None,
            "start_time": when.astimezone(ACCOUNT_TZ).isoformat(timespec="milliseconds"),
            "tracking_phone_number": tracking,
            "voicemail": not answered and (h >> 20) % 2 == 0,
            "company_id": COMPANY_ID,
            "company_name": "Perfect Catch Pools & Electric",
            "lead_status": _LEAD_STATUSES[(h >> 8) % 3],
            "tags": [],
            "value": None,
            "note": None,
            "source": _SOURCES[(h >> 12) % len(_SOURCES)],
            "source_name": _SOURCES[(h >> 12) % len(_SOURCES)],
            "first_call": i % 3 != 0,
            "call_type": "inbound" if answered else "missed",
            "created_at": when.astimezone(ACCOUNT_TZ).isoformat(timespec="milliseconds"),
            "formatted_customer_phone_number": formatted(digits, 1),
            "_start": when,
        }

    def ordered(self, descending: bool) -> list[dict[str, Any]]:
        return sorted(self.calls.values(), key=lambda c: (c["_start"], c["id"]), reverse=descending)

    def add_call(
        self,
        phone: str,
        *,
        answered: bool = False,
        voicemail: bool = False,
        direction: str = "inbound",
        when: datetime | None = None,
        source: str = "Google Ads",
        first_call: bool = True,
    ) -> dict[str, Any]:
        """A call that just happened (now, unless `when`), from `phone` (ten digits or E.164),
        as CallRail lists it once the call ends."""
        digits = "".join(ch for ch in phone if ch.isdigit())[-10:]
        with self.lock:
            index = self.call_count + len(self.calls) + 1
            moment = when or datetime.now(UTC)
            call = self._call(index, _bits(self.seed, index), digits, moment)
            call.update(
                answered=answered,
                voicemail=voicemail and not answered,
                direction=direction,
                duration=call["duration"] if answered else 0,
                call_type="inbound" if answered else ("voicemail" if voicemail else "missed"),
                source=source,
                source_name=source,
                first_call=first_call,
            )
            if not answered:
                call.update(recording=None, recording_duration=None, recording_player=None)
            self.calls[call["id"]] = call
            return {k: v for k, v in call.items() if not k.startswith("_")}

    def update_call(self, call_id: str, **changes: Any) -> dict[str, Any]:
        """Change a call after the fact (a recording arrives, a tag or lead status is set)."""
        with self.lock:
            call = self.calls[call_id]
            call.update(changes)
            return {k: v for k, v in call.items() if not k.startswith("_")}
