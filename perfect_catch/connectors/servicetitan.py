"""ServiceTitan API client: OAuth2 token, export feeds, paged lists and plain calls.

Export feeds are the backbone of the sync: the caller stores each page's `continue_from` in the
same transaction as the page's rows, so a run that dies resumes where it stopped. Pages are
handed over as parsed by orjson, without touching each record, because the sync's throughput is
bounded by what happens per record.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
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
    seconds_in_text,
)
from perfect_catch.connectors.json_pages import loads_page

if TYPE_CHECKING:
    from perfect_catch.settings import Settings

SERVICE = "ServiceTitan"

# Renew this long before the token's end, capped at a tenth of its life so short-lived
# tokens are still used.
_RENEW_MARGIN_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class ExportPage:
    """One page of an export feed. Store `continue_from` once the page's records are committed."""

    records: list[dict[str, Any]]
    continue_from: str | None
    has_more: bool


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of a `page`/`pageSize` list endpoint. `total_count` is None unless ST sent it
    (pass `includeTotal=true` in the params to ask for it)."""

    records: list[dict[str, Any]]
    page: int
    has_more: bool
    total_count: int | None


class ServiceTitanError(ApiError):
    """A ServiceTitan call failed; built from ST's ApiErrorResponse when it sent one.

    `errors` maps field names to messages (ST's validation details); `trace_id` is what ST
    support asks for. `status` is None when no response arrived.
    """

    def __init__(
        self,
        status: int | None,
        title: str,
        trace_id: str | None,
        errors: dict[str, list[str]] | None,
        method: str,
        path: str,
        *,
        attempts: int = 1,
        hint: str | None = None,
        error_type: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.trace_id = trace_id
        self.errors = errors or {}
        self.error_type = error_type
        self.data = data or {}
        super().__init__(
            service=SERVICE,
            status=status,
            title=title,
            method=method,
            path=path,
            attempts=attempts,
            hint=hint,
        )

    def _details(self) -> list[str]:
        details = []
        if self.errors:
            fields = ", ".join(
                f"{name}: {_join(messages)}" for name, messages in self.errors.items()
            )
            details.append(f"errors: {fields}")
        if self.trace_id:
            details.append(f"traceId {self.trace_id}")
        return details


class ServiceTitanClient(ApiClient):
    """Client of one ServiceTitan tenant. Thread-unsafe: use one per thread.

    The OAuth2 token is fetched on first use, reused, renewed shortly before it expires and once
    more if ST answers 401 anyway (tokens can be revoked early). Every API call carries the
    `ST-App-Key` header.
    """

    def __init__(
        self,
        api_url: str,
        auth_url: str,
        client_id: str,
        client_secret: str,
        app_key: str,
        tenant_id: int | str,
        *,
        timeout: float = 60.0,
        max_retries: int = 8,
        page_size: int = 5000,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.auth_url = auth_url.rstrip("/")
        self.tenant_id = int(tenant_id)
        self.page_size = page_size
        self.tokens_issued = 0
        self._client_id = client_id
        self._client_secret = client_secret
        self._app_key = app_key
        self._token: str | None = None
        self._token_renew_at = 0.0
        if policy is None:
            policy = RetryPolicy(max_retries=max_retries)
        self._http = ResilientClient(
            service=SERVICE,
            timeout=timeout,
            policy=policy,
            clock=clock,
            error_factory=self._error,
            wait_hint=_wait_hint,
            secrets=(client_secret, app_key),
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, tenant_id: int | str, **options: Any
    ) -> ServiceTitanClient:
        """A client configured from `Settings` (ST_* and HTTP_* variables), on the tenant's own
        credentials when it has some (`perfect_catch.tenants`)."""
        from perfect_catch.tenants import credentials_for

        own = credentials_for(int(tenant_id), settings)
        return cls(
            settings.st_api_url,
            settings.st_auth_url,
            own.client_id,
            own.client_secret.get_secret_value(),
            own.app_key.get_secret_value(),
            tenant_id,
            timeout=settings.http_timeout_seconds,
            max_retries=settings.http_max_retries,
            page_size=settings.st_page_size,
            **options,
        )

    def __repr__(self) -> str:
        return f"ServiceTitanClient(api_url={self.api_url!r}, tenant_id={self.tenant_id})"

    # --- feeds -----------------------------------------------------------------------------

    def export(
        self,
        module: str,
        resource: str,
        *,
        from_token: str | None = None,
        include_recent_changes: bool = False,
    ) -> Iterator[ExportPage]:
        """Stream `{module}/v2/tenant/{tenant}/export/{resource}` from `from_token` (None: all).

        ST picks the export page size itself; `page_size` applies to list endpoints only.
        """
        token = from_token
        path = f"export/{resource}"
        while True:
            params: dict[str, Any] = {}
            if token:
                params["from"] = token
            if include_recent_changes:
                params["includeRecentChanges"] = "true"
            body = self._call("GET", module, path, params=params)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise self._protocol_error("GET", module, path, "export response has no data list")
            page = ExportPage(body["data"], body.get("continueFrom"), bool(body.get("hasMore")))
            self.stats.pages += 1
            yield page
            if not page.has_more:
                return
            if not page.continue_from or page.continue_from == token:
                raise self._protocol_error(
                    "GET", module, path, "export said hasMore but gave no new continueFrom"
                )
            token = page.continue_from

    def iter_list(
        self, module: str, resource: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[ListPage]:
        """Walk a list endpoint page by page (`page`, `pageSize`, `hasMore`)."""
        query = dict(params or {})
        query.setdefault("pageSize", self.page_size)
        page_number = int(query.pop("page", 1))
        while True:
            query["page"] = page_number
            body = self._call("GET", module, resource, params=query)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise self._protocol_error("GET", module, resource, "list response has no data")
            page = ListPage(
                body["data"],
                int(body.get("page") or page_number),
                bool(body.get("hasMore")),
                body.get("totalCount"),
            )
            self.stats.pages += 1
            yield page
            if not page.has_more:
                return
            if not page.records:
                raise self._protocol_error(
                    "GET", module, resource, f"page {page_number} is empty but hasMore is true"
                )
            page_number = page.page + 1

    # --- plain calls -----------------------------------------------------------------------

    def get(self, module: str, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._call("GET", module, path, params=params)

    def post(self, module: str, path: str, json: Any = None) -> Any:
        return self._call("POST", module, path, json=json)

    def put(self, module: str, path: str, json: Any = None) -> Any:
        return self._call("PUT", module, path, json=json)

    def patch(self, module: str, path: str, json: Any = None) -> Any:
        return self._call("PATCH", module, path, json=json)

    def delete(self, module: str, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._call("DELETE", module, path, params=params)

    def url(self, module: str, path: str) -> str:
        return f"{self.api_url}/{module.strip('/')}/v2/tenant/{self.tenant_id}/{path.lstrip('/')}"

    # --- internals -------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        module: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        url = self.url(module, path)
        content = orjson.dumps(json) if json is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else None
        response = self._http.request(
            method,
            url,
            params=params,
            content=content,
            headers=headers,
            auth=self._auth_headers,
            passthrough=(401,),
        )
        if response.status_code == 401:
            self._forget_token()
            response = self._http.request(
                method,
                url,
                params=params,
                content=content,
                headers=headers,
                auth=self._auth_headers,
            )
        if not response.content:
            return None
        try:
            return loads_page(response.content)
        except orjson.JSONDecodeError:
            raise self._protocol_error(method, module, path, "response is not JSON") from None

    def _auth_headers(self) -> dict[str, str]:
        if self._token is None or self._http.clock.monotonic() >= self._token_renew_at:
            self._renew_token()
        return {"Authorization": f"Bearer {self._token}", "ST-App-Key": self._app_key}

    def _forget_token(self) -> None:
        self._token = None

    def _renew_token(self) -> None:
        url = f"{self.auth_url}/connect/token"
        response = self._http.request(
            "POST",
            url,
            data={
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self._client_secret,
            },
            passthrough=(400, 401, 403, 404),
            idempotent=True,
        )
        if response.status_code >= 400:
            raise self._auth_error(response)
        try:
            body = orjson.loads(response.content)
            token = str(body["access_token"])
            life = float(body.get("expires_in") or 900)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise self._http.redact.scrub(
                ServiceTitanError(
                    response.status_code,
                    "token response has no access_token",
                    None,
                    None,
                    "POST",
                    "/connect/token",
                    hint="check ST_AUTH_URL points at the ServiceTitan auth host",
                )
            ) from None
        self._http.redact.add(token)
        self._token = token
        self._token_renew_at = (
            self._http.clock.monotonic() + life - min(_RENEW_MARGIN_SECONDS, life / 10)
        )
        self.tokens_issued += 1

    def _auth_error(self, response: httpx.Response) -> ServiceTitanError:
        body = _json_or_none(response)
        code = str(body.get("error") or "") if isinstance(body, dict) else ""
        if response.status_code == 404:
            hint = "check ST_AUTH_URL (no token endpoint there)"
            title = "token endpoint not found"
        else:
            hint = "check ST_CLIENT_ID and ST_CLIENT_SECRET"
            title = "ServiceTitan rejected the client credentials"
            if code:
                title += f" ({code})"
        error = ServiceTitanError(
            response.status_code, title, None, None, "POST", "/connect/token", hint=hint
        )
        return self._http.redact.scrub(error)

    def _protocol_error(self, method: str, module: str, path: str, title: str) -> ApiError:
        error = ServiceTitanError(
            None, title, None, None, method, httpx.URL(self.url(module, path)).path
        )
        return self._http.redact.scrub(error)

    def _error(self, failure: Failure) -> ApiError:
        """Turn ST's ApiErrorResponse (or whatever came back) into a `ServiceTitanError`."""
        response = failure.response
        trace_id = None
        errors: dict[str, list[str]] | None = None
        error_type = None
        data = None
        hint = None
        if response is None:
            status = None
            title = failure.reason or "no response"
            if failure.path.endswith("/connect/token"):
                hint = "check ST_AUTH_URL"
            else:
                hint = "check ST_API_URL and the network"
        else:
            status = response.status_code
            body = _json_or_none(response)
            if isinstance(body, dict):
                title = str(body.get("title") or body.get("error") or response.reason_phrase)
                trace_id = body.get("traceId")
                errors = body.get("errors") if isinstance(body.get("errors"), dict) else None
                error_type = body.get("type")
                data = body.get("data") if isinstance(body.get("data"), dict) else None
            else:
                title = response.text[:300].strip() or response.reason_phrase
            hint = _hint_for(status, self.tenant_id)
        return ServiceTitanError(
            status,
            title,
            trace_id,
            errors,
            failure.method,
            failure.path,
            attempts=failure.attempts,
            hint=hint,
            error_type=error_type,
            data=data,
        )


def _join(messages: object) -> str:
    if isinstance(messages, list):
        return " ".join(str(message) for message in messages)
    return str(messages)


def _hint_for(status: int, tenant_id: int) -> str | None:
    if status == 401:
        return f"check ST_APP_KEY and that the app is connected to tenant {tenant_id}"
    if status == 403:
        return f"check ST_APP_KEY, and that the app's scopes cover this API and tenant {tenant_id}"
    if status == 429:
        return "rate limited by ServiceTitan; retries exhausted"
    return None


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        return None


def _wait_hint(response: httpx.Response) -> float | None:
    """ST says how long to wait in a 429's title ('... try again in N seconds.')."""
    if response.status_code != 429:
        return None
    body = _json_or_none(response)
    title = body.get("title") if isinstance(body, dict) else response.text
    return seconds_in_text(title if isinstance(title, str) else None)
