"""Everything the simulated GoHighLevel location knows: contacts, opportunities, pipelines, limits.

Records are generated from (seed, index) on first use, so a location of tens of thousands of
contacts costs nothing until a request needs it; writes go into the same dicts. Ordered views
(by dateAdded, dateUpdated, createdAt) are cached per data version and rebuilt after a write, so
paging stays cheap while the data is still.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from perfect_catch.simulators.timeline import shift_days

LOCATION_ID = "pcSimLocation0000001"
TOKEN = "pit-perfect-catch-sim-token"
API_VERSION = "2021-07-28"
ST_CUSTOMER_FIELD_ID = "stCustomerIdField001"
ST_CUSTOMER_FIELD_KEY = "contact.st_customer_id"

# (contacts, opportunities) per size; "medium" is the real location the platform was built for.
COUNTS = {"small": (40, 80), "medium": (108, 218), "large": (10_800, 21_800)}
# Base records are dated in this span, before anything a client writes now.
HISTORY_START_MS = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp() * 1000)
HISTORY_END_MS = int(datetime(2025, 6, 1, tzinfo=UTC).timestamp() * 1000)
TIE_GROUP = 3
#: The simulated account's pipelines, named as the shop set them up in GoHighLevel (the names the
#: platform's default stage configuration expects).
SALES_STAGES = (
    "New Lead",
    "Contacted",
    "Appointment Scheduled",
    "Appointment Completed / Proposal Sent",
    "Estimate Follow-up",
    "Estimate Lost",
    "Job Sold",
)
INSTALL_STAGES = (
    "Sold - Pending Install",
    "Install Scheduled",
    "Install In Progress",
    "Install Complete",
)
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_FIRST = ("Ana", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivan", "June", "Kai", "Lena")
_LAST = ("Rivera", "Chen", "Okafor", "Smith", "Nguyen", "Patel", "Brooks", "Diaz", "Moore", "Kim")
_SERVICES = ("Pool Remodel", "Panel Upgrade", "EV Charger", "Pool Heater", "Lighting", "Generator")


def ghl_id(seed: int, kind: str, index: int | str) -> str:
    """A 20-character id like GHL's, fixed by (seed, kind, index)."""
    digest = int.from_bytes(
        hashlib.blake2b(f"{seed}:{kind}:{index}".encode(), digest_size=16).digest()
    )
    chars = []
    for _ in range(20):
        digest, rest = divmod(digest, 62)
        chars.append(_ALPHABET[rest])
    return "".join(chars)


def _bits(seed: int, kind: str, index: int) -> int:
    return int.from_bytes(
        hashlib.blake2b(f"{seed}:{kind}:bits:{index}".encode(), digest_size=8).digest()
    )


def iso_ms(ms: int) -> str:
    """GHL's timestamp form: ISO 8601, milliseconds, Z."""
    return (
        datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    )


def parse_ms(value: Any) -> int:
    """Epoch milliseconds from a number or an ISO timestamp (as GHL accepts both)."""
    if isinstance(value, int | float):
        return int(value)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def e164(value: str | None) -> str | None:
    if not value:
        return None
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) == 10:
        return f"+1{digits}"
    if len(digits) == 11 and digits.startswith("1"):
        return f"+{digits}"
    return f"+{digits}" if value.strip().startswith("+") and digits else None


class RateLimited(Exception):
    """A request over the burst or the daily limit; carries the headers to answer with."""

    def __init__(self, daily: bool, headers: dict[str, str]) -> None:
        self.daily = daily
        self.headers = headers
        super().__init__("daily" if daily else "burst")


@dataclass
class RateLimiter:
    """GHL's limits per location: `burst` requests per `window` seconds and `daily` per UTC day.

    Rejected requests do not count. `reset_daily()` stands in for midnight in tests.
    """

    burst: int = 100
    window: float = 10.0
    daily: int = 200_000
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._recent: deque[float] = deque()
        self._day = self._today()
        self._used_today = 0
        self._lock = threading.Lock()

    @staticmethod
    def _today() -> str:
        return datetime.now(UTC).date().isoformat()

    def reset_daily(self) -> None:
        with self._lock:
            self._used_today = 0

    def _headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit-Daily": str(self.daily),
            "X-RateLimit-Daily-Remaining": str(max(0, self.daily - self._used_today)),
            "X-RateLimit-Interval-Milliseconds": str(int(self.window * 1000)),
            "X-RateLimit-Max": str(self.burst),
            "X-RateLimit-Remaining": str(max(0, self.burst - len(self._recent))),
        }

    def take(self) -> dict[str, str]:
        """Count one request and return the rate-limit headers, or raise `RateLimited`."""
        with self._lock:
            now = self.clock()
            today = self._today()
            if today != self._day:
                self._day, self._used_today = today, 0
            while self._recent and self._recent[0] <= now - self.window:
                self._recent.popleft()
            if self._used_today >= self.daily:
                raise RateLimited(True, self._headers())
            if len(self._recent) >= self.burst:
                headers = self._headers()
                wait = self._recent[0] + self.window - now
                headers["Retry-After"] = str(max(1, int(wait + 0.999)))
                raise RateLimited(False, headers)
            self._recent.append(now)
            self._used_today += 1
            return self._headers()


class GhlState:
    """One simulated GHL location: data, credentials and rate limits."""

    def __init__(
        self,
        seed: int = 1,
        size: str = "small",
        *,
        contact_count: int | None = None,
        opportunity_count: int | None = None,
        burst_limit: int | None = None,
        burst_window: float | None = None,
        daily_limit: int | None = None,
        location_id: str = LOCATION_ID,
        token: str = TOKEN,
        allow_duplicate_opportunities: bool = True,
        anchor: date | str | None = None,
    ) -> None:
        contacts, opportunities = COUNTS[size]
        self.seed = seed
        #: History ends on the simulators' anchor date (see `simulators.timeline`).
        self._shift_ms = shift_days(anchor) * 86_400_000
        self.size = size
        self.location_id = location_id
        self.token = token
        self.allow_duplicate_opportunities = allow_duplicate_opportunities
        self.contact_count = contacts if contact_count is None else contact_count
        self.opportunity_count = opportunities if opportunity_count is None else opportunity_count
        self.limiter = RateLimiter(
            burst=burst_limit or int(os.environ.get("SIM_GHL_BURST_LIMIT", "100")),
            window=burst_window or float(os.environ.get("SIM_GHL_BURST_WINDOW", "10")),
            daily=daily_limit or int(os.environ.get("SIM_GHL_DAILY_LIMIT", "200000")),
        )
        self.lock = threading.RLock()
        self.requests = 0
        self.custom_fields = {ST_CUSTOMER_FIELD_KEY: ST_CUSTOMER_FIELD_ID}
        self.pipelines = self._pipelines()
        self._contacts: dict[str, dict[str, Any]] | None = None
        self._opportunities: dict[str, dict[str, Any]] | None = None
        self._version = 0
        self._views: dict[tuple[str, str, int], list[tuple[int, str]]] = {}
        self._last_ms = 0

    # --- generation ----------------------------------------------------------------------------

    def _pipelines(self) -> list[dict[str, Any]]:
        def stages(kind: str, names: list[str]) -> list[dict[str, Any]]:
            return [
                {"id": ghl_id(self.seed, f"stage:{kind}", i), "name": name, "position": i}
                for i, name in enumerate(names)
            ]

        common = {
            "locationId": self.location_id,
            "showInFunnel": True,
            "showInPieChart": True,
            "colorRenderMode": "dot",
        }
        return [
            {
                "id": ghl_id(self.seed, "pipeline", "sales"),
                "name": "Sales Pipeline",
                "stages": stages("sales", list(SALES_STAGES)),
                **common,
            },
            {
                "id": ghl_id(self.seed, "pipeline", "install"),
                "name": "Install Pipeline",
                "stages": stages("install", list(INSTALL_STAGES)),
                **common,
            },
        ]

    def _span_step(self, count: int) -> int:
        groups = max(1, -(-count // TIE_GROUP))
        return max(1000, (HISTORY_END_MS - HISTORY_START_MS) // groups)

    def _base_contact(self, i: int) -> dict[str, Any]:
        h = _bits(self.seed, "contact", i)
        first, last = _FIRST[h % len(_FIRST)], _LAST[(h >> 8) % len(_LAST)]
        added = (
            HISTORY_START_MS
            + self._shift_ms
            + (i // TIE_GROUP) * self._span_step(self.contact_count)
        )
        updated = min(HISTORY_END_MS + self._shift_ms, added + (h >> 16) % (30 * 86_400_000))
        customer = (h >> 40) % 4 == 0
        phone = f"+1{('480', '602', '623', '928')[(h >> 44) % 4]}555{(h >> 24) % 10_000:04d}"
        email = None if (h >> 48) % 7 == 0 else f"{first}.{last}{i}@example.com".lower()
        return self._contact_record(
            ghl_id(self.seed, "contact", i),
            first,
            last,
            email,
            phone if (h >> 52) % 9 else None,
            ["customer"] if customer else ["lead"],
            added,
            updated,
            "customer" if customer else "lead",
            source="website" if h >> 56 & 1 else "facebook",
        )

    def _contact_record(
        self,
        contact_id: str,
        first: str | None,
        last: str | None,
        email: str | None,
        phone: str | None,
        tags: list[str],
        added: int,
        updated: int,
        kind: str = "lead",
        source: str | None = None,
    ) -> dict[str, Any]:
        name = " ".join(p for p in (first, last) if p) or None
        return {
            "id": contact_id,
            "locationId": self.location_id,
            "contactName": name.lower() if name else None,
            "firstName": first,
            "lastName": last,
            "firstNameLowerCase": first.lower() if first else None,
            "lastNameLowerCase": last.lower() if last else None,
            "fullNameLowerCase": name.lower() if name else None,
            "companyName": None,
            "email": email,
            "emailLowerCase": email.lower() if email else None,
            "phone": phone,
            "dnd": False,
            "type": kind,
            "source": source,
            "assignedTo": None,
            "address1": None,
            "city": None,
            "state": None,
            "postalCode": None,
            "country": "US",
            "timezone": "America/Phoenix",
            "tags": tags,
            "customFields": [],
            "dateAdded": iso_ms(added),
            "dateUpdated": iso_ms(updated),
            "_added": added,
            "_updated": updated,
        }

    def _base_opportunity(self, j: int, contacts: list[dict[str, Any]]) -> dict[str, Any]:
        h = _bits(self.seed, "opportunity", j)
        contact = (
            contacts[j * len(contacts) // max(1, self.opportunity_count)] if contacts else None
        )
        install = (h % 10) == 0
        pipeline = self.pipelines[1 if install else 0]
        stage = pipeline["stages"][(h >> 8) % len(pipeline["stages"])]
        status = "open"
        if stage["name"] == "Job Sold":
            status = "won"
        elif stage["name"] == "Estimate Lost":
            status = "lost"
        created = (contact["_added"] if contact else HISTORY_START_MS + self._shift_ms) + (
            h >> 16
        ) % 86_400_000
        updated = min(HISTORY_END_MS + self._shift_ms, created + (h >> 24) % (20 * 86_400_000))
        service = _SERVICES[(h >> 32) % len(_SERVICES)]
        name = f"{contact['firstName']} {contact['lastName']} - {service}" if contact else service
        return self._opportunity_record(
            ghl_id(self.seed, "opportunity", j),
            name,
            contact["id"] if contact else "",
            pipeline["id"],
            stage["id"],
            status,
            float((h >> 40) % 400 * 50),
            created,
            updated,
        )

    def _opportunity_record(
        self,
        opp_id: str,
        name: str,
        contact_id: str,
        pipeline_id: str,
        stage_id: str,
        status: str,
        value: float,
        created: int,
        updated: int,
    ) -> dict[str, Any]:
        return {
            "id": opp_id,
            "name": name,
            "monetaryValue": value,
            "pipelineId": pipeline_id,
            "pipelineStageId": stage_id,
            "assignedTo": None,
            "status": status,
            "source": "",
            "lastStatusChangeAt": iso_ms(updated),
            "lastStageChangeAt": iso_ms(updated),
            "lastActionDate": iso_ms(updated),
            "indexVersion": 1,
            "createdAt": iso_ms(created),
            "updatedAt": iso_ms(updated),
            "contactId": contact_id,
            "locationId": self.location_id,
            "customFields": [],
            "followers": [],
            "_created": created,
            "_updated": updated,
        }

    def _generate(self) -> None:
        """Materialise the seeded records on first use; opportunities go to seeded contacts only."""
        contacts = [self._base_contact(i) for i in range(self.contact_count)]
        ordered = sorted(contacts, key=lambda c: (c["_added"], c["id"]))
        opportunities = [self._base_opportunity(j, ordered) for j in range(self.opportunity_count)]
        self._contacts = {c["id"]: c for c in contacts}
        self._opportunities = {o["id"]: o for o in opportunities}

    @property
    def contacts(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            if self._contacts is None:
                self._generate()
            assert self._contacts is not None
            return self._contacts

    @property
    def opportunities(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            if self._opportunities is None:
                self._generate()
            assert self._opportunities is not None
            return self._opportunities

    # --- views and writes ----------------------------------------------------------------------

    def view(self, kind: str, field: str) -> list[tuple[int, str]]:
        """(sort value ms, id) of every record of `kind`, ascending; cached per data version."""
        with self.lock:
            key = (kind, field, self._version)
            cached = self._views.get(key)
            if cached is None:
                records = self.contacts if kind == "contacts" else self.opportunities
                cached = sorted((r[field], r["id"]) for r in records.values())
                self._views = {
                    key: cached,
                    **{k: v for k, v in self._views.items() if k[2] == self._version},
                }
            return cached

    def now_ms(self) -> int:
        """Wall-clock ms, strictly increasing, so every write has its own dateUpdated."""
        with self.lock:
            now = max(int(time.time() * 1000), self._last_ms + 1)
            self._last_ms = now
            return now

    def touch(self) -> None:
        self._version += 1

    def stage(self, pipeline_id: str, stage_id: str) -> dict[str, Any] | None:
        for pipeline in self.pipelines:
            if pipeline["id"] == pipeline_id:
                return next((s for s in pipeline["stages"] if s["id"] == stage_id), None)
        return None

    def pipeline(self, pipeline_id: str) -> dict[str, Any] | None:
        return next((p for p in self.pipelines if p["id"] == pipeline_id), None)

    def custom_field_id(self, item: dict[str, Any]) -> str:
        if item.get("id"):
            return str(item["id"])
        key = str(item.get("key") or "")
        if key not in self.custom_fields:
            self.custom_fields[key] = ghl_id(self.seed, "field", key)
        return self.custom_fields[key]

    def create_contact(self, body: dict[str, Any]) -> dict[str, Any]:
        now = self.now_ms()
        contact_id = ghl_id(self.seed, "contact:new", f"{now}:{len(self.contacts)}")
        record = self._contact_record(
            contact_id,
            body.get("firstName"),
            body.get("lastName"),
            body.get("email"),
            e164(body.get("phone")) or body.get("phone"),
            list(body.get("tags") or []),
            now,
            now,
            source=body.get("source") or "public api",
        )
        self.contacts[contact_id] = record
        self.update_contact(record, body, stamp=False)
        self.touch()
        return record

    def update_contact(
        self, record: dict[str, Any], body: dict[str, Any], stamp: bool = True
    ) -> dict[str, Any]:
        for field in ("firstName", "lastName", "companyName", "address1", "city", "state"):
            if body.get(field) is not None:
                record[field] = body[field]
        for field in ("postalCode", "country", "source", "timezone", "website"):
            if body.get(field) is not None:
                record[field] = body[field]
        if body.get("email"):
            record["email"] = body["email"]
            record["emailLowerCase"] = str(body["email"]).lower()
        if body.get("phone"):
            record["phone"] = e164(body["phone"]) or body["phone"]
        if body.get("tags") is not None:
            record["tags"] = list(body["tags"])
        if body.get("customFields"):
            values = {f["id"]: f for f in record["customFields"]}
            for item in body["customFields"]:
                field_id = self.custom_field_id(item)
                value = item.get("field_value", item.get("value"))
                values[field_id] = {"id": field_id, "value": value}
            record["customFields"] = list(values.values())
        name = " ".join(p for p in (record.get("firstName"), record.get("lastName")) if p)
        record["contactName"] = name.lower() or None
        if stamp:
            record["_updated"] = self.now_ms()
            record["dateUpdated"] = iso_ms(record["_updated"])
            self.touch()
        return record

    def find_for_upsert(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """The contact an upsert updates: same phone first, then same email."""
        phone = e164(body.get("phone"))
        email = (body.get("email") or "").lower()
        if phone:
            for record in self.contacts.values():
                if record.get("phone") == phone:
                    return record
        if email:
            for record in self.contacts.values():
                if (record.get("email") or "").lower() == email:
                    return record
        return None

    def create_opportunity(self, body: dict[str, Any]) -> dict[str, Any]:
        now = self.now_ms()
        opp_id = ghl_id(self.seed, "opportunity:new", f"{now}:{len(self.opportunities)}")
        record = self._opportunity_record(
            opp_id,
            body["name"],
            body["contactId"],
            body["pipelineId"],
            body.get("pipelineStageId") or self.pipeline(body["pipelineId"])["stages"][0]["id"],
            body.get("status") or "open",
            float(body.get("monetaryValue") or 0),
            now,
            now,
        )
        self.opportunities[opp_id] = record
        self.touch()
        return record

    def update_opportunity(self, record: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        now = self.now_ms()
        if body.get("pipelineStageId") and body["pipelineStageId"] != record["pipelineStageId"]:
            record["lastStageChangeAt"] = iso_ms(now)
        if body.get("status") and body["status"] != record["status"]:
            record["lastStatusChangeAt"] = iso_ms(now)
        for field in ("name", "pipelineId", "pipelineStageId", "status", "assignedTo"):
            if body.get(field) is not None:
                record[field] = body[field]
        if body.get("monetaryValue") is not None:
            record["monetaryValue"] = float(body["monetaryValue"])
        record["_updated"] = now
        record["updatedAt"] = iso_ms(now)
        record["lastActionDate"] = iso_ms(now)
        self.touch()
        return record

    # --- ground truth for tests ----------------------------------------------------------------

    def public(self, record: dict[str, Any]) -> dict[str, Any]:
        """A record as the API shows it (without the simulator's sort keys)."""
        return {k: v for k, v in record.items() if not k.startswith("_")}

    def contact_by_phone(self, phone: str) -> list[dict[str, Any]]:
        wanted = e164(phone)
        return [self.public(c) for c in self.contacts.values() if c.get("phone") == wanted]
