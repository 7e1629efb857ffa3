"""CallRail API v3 client: an account's calls, through relative (cursor) pagination.

Relative pagination follows the `next_page` URL CallRail returns, which stays consistent while
calls arrive; offset pagination (`page`/`total_pages`) shifts under new calls and is offered only
for small, closed date ranges.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
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

SERVICE = "CallRail"
# Fields beyond the defaults that the warehouse keeps.
CALL_FIELDS: tuple[str, ...] = (
    "company_id",
    "lead_status",
    "tags",
    "source",
    "source_name",
    "first_call",
    "value",
    "note",
    "created_at",
)


def _error(failure: Failure) -> ApiError:
    response = failure.response
    if response is None:
        title = failure.reason or "no response"
        status = None
    else:
        status = response.status_code
        try:
            body = orjson.loads(response.content)
            title = str(body.get("error") or body.get("errors") or response.reason_phrase)
        except (orjson.JSONDecodeError, AttributeError):
            title = response.text[:300] or response.reason_phrase
    return ApiError(
        service=SERVICE,
        status=status,
        title=title,
        method=failure.method,
        path=failure.path,
        attempts=failure.attempts,
    )


def _day(value: date | datetime | str) -> str:
    return value.isoformat() if isinstance(value, date | datetime) else value


class CallRailClient(ApiClient):
    """Client of one CallRail account (API key auth)."""

    def __init__(
        self,
        api_url: str,
        api_key: str,
        account_id: str,
        *,
        timeout: float = 60.0,
        max_retries: int = 8,
        per_page: int = 250,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.account_id = account_id
        self.per_page = per_page
        self._http = ResilientClient(
            service=SERVICE,
            timeout=timeout,
            policy=policy or RetryPolicy(max_retries=max_retries),
            clock=clock,
            error_factory=_error,
            secrets=(api_key,),
            headers={"Authorization": f'Token token="{api_key}"', "Accept": "application/json"},
            transport=transport,
        )

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> CallRailClient:
        """A client from `CALLRAIL_API_URL`, `CALLRAIL_API_KEY`, `CALLRAIL_ACCOUNT_ID`."""
        return cls(
            settings.callrail_api_url,
            settings.callrail_api_key.get_secret_value(),
            settings.callrail_account_id,
            timeout=settings.http_timeout_seconds,
            max_retries=settings.http_max_retries,
            **options,
        )

    def __repr__(self) -> str:
        return f"CallRailClient(api_url={self.api_url!r}, account_id={self.account_id!r})"

    def _get(self, url: str, params: dict[str, Any] | None) -> dict[str, Any]:
        response = self._http.request("GET", url, params=params)
        self._http.stats.pages += 1
        return orjson.loads(response.content)

    def _params(
        self,
        start_date: date | datetime | str | None,
        end_date: date | datetime | str | None,
        fields: Sequence[str],
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"per_page": self.per_page, "order": "asc", "sort": "start_time"}
        if start_date is not None:
            params["start_date"] = _day(start_date)
        if end_date is not None:
            params["end_date"] = _day(end_date)
        if fields:
            params["fields"] = ",".join(fields)
        return params

    def calls(
        self,
        *,
        start_date: date | datetime | str | None = None,
        end_date: date | datetime | str | None = None,
        fields: Sequence[str] = CALL_FIELDS,
    ) -> Iterator[list[dict[str, Any]]]:
        """Calls started in [start_date, end_date], oldest first, with relative pagination."""
        url = f"{self.api_url}/v3/a/{self.account_id}/calls.json"
        params: dict[str, Any] | None = {
            **self._params(start_date, end_date, fields),
            "relative_pagination": "true",
        }
        while True:
            payload = self._get(url, params)
            calls = payload.get("calls") or []
            if calls:
                yield calls
            next_page = payload.get("next_page")
            if not payload.get("has_next_page") or not next_page:
                return
            url, params = next_page, None

    def calls_by_page(
        self,
        *,
        start_date: date | datetime | str | None = None,
        end_date: date | datetime | str | None = None,
        fields: Sequence[str] = CALL_FIELDS,
    ) -> Iterator[list[dict[str, Any]]]:
        """The same calls with offset pagination (`page` up to `total_pages`)."""
        url = f"{self.api_url}/v3/a/{self.account_id}/calls.json"
        params = self._params(start_date, end_date, fields)
        page = 1
        while True:
            payload = self._get(url, {**params, "page": page})
            calls = payload.get("calls") or []
            if calls:
                yield calls
            if page >= int(payload.get("total_pages") or 1) or not calls:
                return
            page += 1
