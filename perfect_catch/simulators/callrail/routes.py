"""HTTP surface of the simulated CallRail API v3: the account's calls list.

`GET /v3/a/{account}/calls.json` with offset paging (`page`, `per_page`, `total_pages`) or
relative paging (`relative_pagination=true`, `next_page` URL), `start_date`/`end_date`, `sort`,
`order` and `fields=` on top of the default fields. Auth is `Authorization: Token token="KEY"`.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, time
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from perfect_catch.simulators.callrail.state import ACCOUNT_TZ, CallRailState
from perfect_catch.simulators.faults import FaultInjector

DEFAULT_FIELDS = (
    "answered",
    "business_phone_number",
    "customer_city",
    "customer_country",
    "customer_name",
    "customer_phone_number",
    "customer_state",
    "direction",
    "duration",
    "id",
    "recording",
    "recording_duration",
    "recording_player",
    "start_time",
    "tracking_phone_number",
    "voicemail",
)
OPTIONAL_FIELDS = (
    "company_id",
    "company_name",
    "lead_status",
    "tags",
    "value",
    "note",
    "source",
    "source_name",
    "first_call",
    "call_type",
    "created_at",
    "formatted_customer_phone_number",
)
MAX_PER_PAGE = 250


class BadRequest(Exception):
    pass


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(payload), status, headers, media_type="application/json")


def _instant(value: str, end: bool) -> datetime:
    """CallRail accepts dates (whole days in the account's zone) and ISO 8601 times."""
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").date()
            moment = datetime.combine(day, time.max if end else time.min, ACCOUNT_TZ)
            return moment
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Invalid date: {value}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ACCOUNT_TZ)


def _int(value: str | None, name: str, default: int, high: int) -> int:
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"Invalid {name}: {value}") from None
    if not 1 <= number <= high:
        raise BadRequest(f"{name} must be between 1 and {high}")
    return number


def _encode(call: dict[str, Any]) -> str:
    raw = f"{call['_start'].timestamp():.6f}|{call['id']}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode(token: str) -> tuple[datetime, str]:
    try:
        stamp, call_id = base64.urlsafe_b64decode(token.encode()).decode().split("|", 1)
        return datetime.fromtimestamp(float(stamp), UTC), call_id
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Invalid offset") from None


def _calls(request: Request, state: CallRailState) -> Response:
    params = request.query_params
    per_page = _int(params.get("per_page"), "per_page", 100, MAX_PER_PAGE)
    order = (params.get("order") or "desc").lower()
    if order not in ("asc", "desc") or (params.get("sort") or "start_time") != "start_time":
        raise BadRequest("Invalid sort or order")
    descending = order == "desc"
    extra = [f.strip() for f in (params.get("fields") or "").split(",") if f.strip()]
    unknown = [f for f in extra if f not in OPTIONAL_FIELDS and f not in DEFAULT_FIELDS]
    if unknown:
        raise BadRequest(f"Invalid field(s): {', '.join(unknown)}")
    fields = list(DEFAULT_FIELDS) + [f for f in extra if f not in DEFAULT_FIELDS]
    low = _instant(params["start_date"], False) if params.get("start_date") else None
    high = _instant(params["end_date"], True) if params.get("end_date") else None
    with state.lock:
        calls = [
            c
            for c in state.ordered(descending)
            if (low is None or c["_start"] >= low) and (high is None or c["_start"] <= high)
        ]
        relative = (params.get("relative_pagination") or "").lower() == "true"
        base = str(request.url).split("?")[0]
        if relative:
            start = 0
            if params.get("offset"):
                moment, call_id = _decode(params["offset"])
                key = (moment, call_id)
                start = next(
                    (
                        i
                        for i, c in enumerate(calls)
                        if (
                            (c["_start"], c["id"]) < key
                            if descending
                            else (c["_start"], c["id"]) > key
                        )
                    ),
                    len(calls),
                )
            chunk = calls[start : start + per_page]
            has_next = start + per_page < len(calls)
            next_page = None
            if has_next and chunk:
                query = {k: v for k, v in params.items() if k != "offset"}
                query["offset"] = _encode(chunk[-1])
                next_page = f"{base}?{urlencode(query)}"
            body: dict[str, Any] = {
                "per_page": per_page,
                "has_next_page": has_next,
                "next_page": next_page,
                "calls": [{f: c.get(f) for f in fields} for c in chunk],
            }
        else:
            page = _int(params.get("page"), "page", 1, 1_000_000)
            total_pages = max(1, -(-len(calls) // per_page))
            chunk = calls[(page - 1) * per_page : page * per_page]
            body = {
                "page": page,
                "per_page": per_page,
                "total_pages": total_pages,
                "total_records": len(calls),
                "calls": [{f: c.get(f) for f in fields} for c in chunk],
            }
    return _json(body)


def build_callrail_app(state: CallRailState, faults: FaultInjector) -> Starlette:
    """The CallRail sub-app, behind faults and token auth."""

    async def calls(request: Request) -> Response:
        kind = await faults.strike()
        if kind == "429":
            return _json({"error": "Rate limit exceeded"}, 429, {"Retry-After": "1"})
        if kind == "5xx":
            return _json({"error": "Service Unavailable"}, 503)
        if kind == "timeout":
            return _json({"error": "Gateway Timeout"}, 504)
        if request.headers.get("Authorization") != f'Token token="{state.api_key}"':
            return _json({"error": "HTTP Token: Access denied."}, 401)
        if request.path_params["account_id"] != state.account_id:
            return _json({"error": "Account not found"}, 404)
        try:
            return _calls(request, state)
        except BadRequest as exc:
            return _json({"error": str(exc)}, 400)

    async def add_call(request: Request) -> Response:
        """`POST /_admin/calls {"phone": ..., "answered": false, "voicemail": false}`: a call
        that just ended, for tests and benchmarks of missed-call handling."""
        body = await request.json()
        if not isinstance(body, dict) or not str(body.get("phone") or "").strip():
            return _json({"error": "phone is required"}, 400)
        options = {
            k: body[k]
            for k in ("answered", "voicemail", "direction", "source", "first_call")
            if k in body
        }
        return _json(state.add_call(str(body["phone"]), **options), 201)

    return Starlette(
        routes=[
            Route("/v3/a/{account_id}/calls.json", calls, methods=["GET"]),
            Route("/_admin/calls", add_call, methods=["POST"]),
        ]
    )


__all__ = ["DEFAULT_FIELDS", "OPTIONAL_FIELDS", "build_callrail_app"]
