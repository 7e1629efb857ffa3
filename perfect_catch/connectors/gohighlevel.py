"""GoHighLevel API v2 client: contacts, opportunities and pipelines of one location.

GHL limits each location to a burst of requests per 10 seconds and a number per day. A burst
429 is waited out by `ResilientClient` like any throttle. A spent daily allowance is different:
waiting would block a run for hours, and retrying only spends tomorrow's allowance, so the
wait hint reports it as a wait longer than any policy allows and the request fails at once
with `GhlDailyLimitError`. Syncs commit page by page, so the next run resumes where this stopped.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from perfect_catch.connectors.http import (
    ApiClient,
    ApiError,
    Clock,
    Failure,
    ResilientClient,
    RetryPolicy,
)

if TYPE_CHECKING:
    from perfect_catch.settings import Settings

SERVICE = "GoHighLevel"
API_VERSION = "2021-07-28"
# Longer than any RetryPolicy.max_total_wait: the client gives up instead of sleeping.
_DAILY_EXHAUSTED_WAIT = math.inf


class GhlError(ApiError):
    """A GoHighLevel call failed for good; `status` is None when no response arrived."""

    def __init__(self, *, daily_remaining: int | None = None, **kwargs: Any) -> None:
        self.daily_remaining = daily_remaining
        super().__init__(**kwargs)


class GhlDailyLimitError(GhlError):
    """The location's daily API allowance is spent. Stop the run; the next one resumes."""


@dataclass(frozen=True, slots=True)
class ContactPage:
    """A page of contacts with the cursor that reads the next one (None: last page)."""

    records: list[dict[str, Any]]
    cursor: Any
    total: int | None


def _header_int(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _daily_exhausted(response: httpx.Response) -> bool:
    return response.status_code == 429 and _header_int(response, "X-RateLimit-Daily-Remaining") == 0


def _wait_hint(response: httpx.Response) -> float | None:
    """How long a 429 asks to wait: the burst interval, or 'too long' for a spent day."""
    if _daily_exhausted(response):
        return _DAILY_EXHAUSTED_WAIT
    if response.status_code == 429 and _header_int(response, "X-RateLimit-Remaining") == 0:
        interval = _header_int(response, "X-RateLimit-Interval-Milliseconds")
        return interval / 1000 if interval else None
    return None


def _cursor_of(record: dict[str, Any], sort: list[dict[str, str]] | None) -> list[Any]:
    """A `searchAfter` built from the sort field and id, for answers that do not carry one."""
    field = (sort or [{"field": "dateAdded"}])[0].get("field", "dateAdded")
    value = record.get(field)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        value = int(parsed.timestamp() * 1000)
    return [value, record["id"]]


def _error(failure: Failure) -> ApiError:
    response = failure.response
    common = {
        "service": SERVICE,
        "method": failure.method,
        "path": failure.path,
        "attempts": failure.attempts,
    }
    if response is None:
        return GhlError(status=None, title=failure.reason or "no response", **common)
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    message: Any = body.get("message") if isinstance(body, dict) else None
    if isinstance(message, list):
        message = "; ".join(str(m) for m in message)
    title = str(message or response.text[:300] or response.reason_phrase)
    remaining = _header_int(response, "X-RateLimit-Daily-Remaining")
    if _daily_exhausted(response):
        limit = _header_int(response, "X-RateLimit-Limit-Daily")
        return GhlDailyLimitError(
            status=429,
            title=title,
            daily_remaining=0,
            hint=f"the location's daily limit of {limit or 'its'} requests is spent; "
            "the run stopped and the next one resumes from the last committed page",
            **common,
        )
    return GhlError(status=response.status_code, title=title, daily_remaining=remaining, **common)


class GoHighLevelClient(ApiClient):
    """Client of one GHL location with a private integration (bearer) token."""

    def __init__(
        self,
        api_url: str,
        token: str,
        location_id: str,
        *,
        timeout: float = 60.0,
        max_retries: int = 8,
        page_size: int = 100,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.location_id = location_id
        self.page_size = page_size
        self._http = ResilientClient(
            service=SERVICE,
            timeout=timeout,
            policy=policy or RetryPolicy(max_retries=max_retries),
            clock=clock,
            error_factory=_error,
            wait_hint=_wait_hint,
            secrets=(token,),
            headers={
                "Authorization": f"Bearer {token}",
                "Version": API_VERSION,
                "Accept": "application/json",
            },
            transport=transport,
        )

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> GoHighLevelClient:
        """A client from `GHL_API_URL`, `GHL_TOKEN`, `GHL_LOCATION_ID` and the HTTP settings."""
        return cls(
            settings.ghl_api_url,
            settings.ghl_token.get_secret_value(),
            settings.ghl_location_id,
            timeout=settings.http_timeout_seconds,
            max_retries=settings.http_max_retries,
            **options,
        )

    def __repr__(self) -> str:
        return f"GoHighLevelClient(api_url={self.api_url!r}, location_id={self.location_id!r})"

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        response = self._http.request(
            method, f"{self.api_url}/{path}", params=params, json=json, idempotent=idempotent
        )
        return orjson.loads(response.content) if response.content else {}

    # --- contacts ------------------------------------------------------------------------------

    def search_contacts_page(
        self,
        *,
        filters: list[dict[str, Any]] | None = None,
        sort: list[dict[str, str]] | None = None,
        search_after: list[Any] | None = None,
        page: int | None = None,
        page_limit: int | None = None,
    ) -> ContactPage:
        """One page of `POST /contacts/search`; the cursor is the last contact's `searchAfter`."""
        body: dict[str, Any] = {
            "locationId": self.location_id,
            "pageLimit": page_limit or self.page_size,
            "filters": filters or [],
        }
        if sort:
            body["sort"] = sort
        if search_after:
            body["searchAfter"] = search_after
        else:
            body["page"] = page or 1
        payload = self._call("POST", "contacts/search", json=body, idempotent=True)
        records = payload.get("contacts") or []
        cursor = None
        if len(records) == body["pageLimit"]:
            cursor = records[-1].get("searchAfter") or _cursor_of(records[-1], sort)
        self._http.stats.pages += 1
        return ContactPage(records, cursor, payload.get("total"))

    def search_contacts(
        self,
        *,
        filters: list[dict[str, Any]] | None = None,
        sort: list[dict[str, str]] | None = None,
        search_after: list[Any] | None = None,
        page_limit: int | None = None,
    ) -> Iterator[ContactPage]:
        """Every matching contact, page by page with `searchAfter` (no 10,000-record ceiling)."""
        cursor = search_after
        while True:
            page = self.search_contacts_page(
                filters=filters, sort=sort, search_after=cursor, page_limit=page_limit
            )
            if page.records:
                yield page
            if page.cursor is None:
                return
            cursor = page.cursor

    def search_contacts_by_page(
        self,
        *,
        filters: list[dict[str, Any]] | None = None,
        sort: list[dict[str, str]] | None = None,
        page_limit: int | None = None,
    ) -> Iterator[ContactPage]:
        """Matching contacts with `page`/`pageLimit`; GHL caps this style at 10,000 records."""
        number = 1
        while True:
            page = self.search_contacts_page(
                filters=filters, sort=sort, page=number, page_limit=page_limit
            )
            if page.records:
                yield page
            if page.cursor is None:
                return
            number += 1

    def list_contacts(
        self, *, start_after: int | None = None, start_after_id: str | None = None
    ) -> Iterator[ContactPage]:
        """Every contact through `GET /contacts/` and its `startAfter`/`startAfterId` cursor."""
        params: dict[str, Any] = {"locationId": self.location_id, "limit": min(self.page_size, 100)}
        if start_after is not None:
            params["startAfter"] = start_after
        if start_after_id:
            params["startAfterId"] = start_after_id
        while True:
            payload = self._call("GET", "contacts/", params=params)
            records = payload.get("contacts") or []
            meta = payload.get("meta") or {}
            self._http.stats.pages += 1
            more = bool(meta.get("nextPageUrl") or meta.get("nextPage")) and bool(records)
            cursor = (meta.get("startAfter"), meta.get("startAfterId")) if more else None
            if records:
                yield ContactPage(records, cursor, meta.get("total"))
            if cursor is None:
                return
            params = {**params, "startAfter": cursor[0], "startAfterId": cursor[1]}

    def find_contacts(self, field: str, value: str) -> list[dict[str, Any]]:
        """Contacts whose `field` (phone, email) equals `value`, oldest first."""
        page = self.search_contacts_page(
            filters=[{"field": field, "operator": "eq", "value": value}],
            sort=[{"field": "dateAdded", "direction": "asc"}],
            page_limit=20,
        )
        return page.records

    def get_contact(self, contact_id: str) -> dict[str, Any]:
        return self._call("GET", f"contacts/{contact_id}").get("contact") or {}

    def upsert_contact(self, contact: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """Create or update by GHL's duplicate rules; returns (contact, created)."""
        body = {**contact, "locationId": self.location_id}
        payload = self._call("POST", "contacts/upsert", json=body, idempotent=True)
        return payload.get("contact") or {}, bool(payload.get("new"))

    def update_contact(self, contact_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("PUT", f"contacts/{contact_id}", json=dict(changes)).get("contact") or {}

    # --- opportunities and pipelines -----------------------------------------------------------

    def pipelines(self) -> list[dict[str, Any]]:
        payload = self._call(
            "GET", "opportunities/pipelines", params={"locationId": self.location_id}
        )
        return payload.get("pipelines") or []

    def search_opportunities(self, **filters: str) -> Iterator[list[dict[str, Any]]]:
        """Every matching opportunity, oldest first, paged with the `startAfter` cursor of `meta`.

        `filters` are the endpoint's query parameters (`pipeline_id`, `contact_id`, `status`, ...).
        """
        params: dict[str, Any] = {
            "location_id": self.location_id,
            "limit": min(self.page_size, 100),
            "order": "added_asc",
            **filters,
        }
        while True:
            payload = self._call("GET", "opportunities/search", params=params)
            records = payload.get("opportunities") or []
            meta = payload.get("meta") or {}
            self._http.stats.pages += 1
            if records:
                yield records
            if not records or not (meta.get("nextPage") or meta.get("nextPageUrl")):
                return
            params = {
                **params,
                "startAfter": meta["startAfter"],
                "startAfterId": meta["startAfterId"],
                "page": meta.get("nextPage") or 1,
            }

    def get_opportunity(self, opportunity_id: str) -> dict[str, Any] | None:
        response = self._http.request(
            "GET", f"{self.api_url}/opportunities/{opportunity_id}", passthrough=(404,)
        )
        if response.status_code == 404:
            return None
        return orjson.loads(response.content).get("opportunity")

    def create_opportunity(self, opportunity: Mapping[str, Any]) -> dict[str, Any]:
        body = {**opportunity, "locationId": self.location_id}
        return self._call("POST", "opportunities/", json=body).get("opportunity") or {}

    def update_opportunity(self, opportunity_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        payload = self._call("PUT", f"opportunities/{opportunity_id}", json=dict(changes))
        return payload.get("opportunity") or {}

    def update_opportunity_status(self, opportunity_id: str, status: str) -> None:
        self._call("PUT", f"opportunities/{opportunity_id}/status", json={"status": status})
