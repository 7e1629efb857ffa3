"""HTTP surface of the simulated GoHighLevel API v2 (contacts, opportunities, pipelines).

Every request passes, in order: fault injection, bearer token, `Version` header, rate limits
(burst and daily, with GHL's `X-RateLimit-*` headers on every answer). Paths and shapes follow
the official specs; errors use GHL's `{statusCode, message, error}` body.
"""

from __future__ import annotations

import bisect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from perfect_catch.simulators.faults import FaultInjector
from perfect_catch.simulators.gohighlevel.state import (
    API_VERSION,
    GhlState,
    RateLimited,
    e164,
    parse_ms,
)

PAGED_SEARCH_LIMIT = 10_000
_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

Handler = Callable[[Request, GhlState], Awaitable[Response]]


class HttpError(Exception):
    def __init__(self, status: int, message: str | list[str]) -> None:
        self.status = status
        self.message = message
        super().__init__(str(message))


def _without_nulls(value: Any) -> Any:
    """GoHighLevel leaves a field it has no value for out of the JSON (its spec makes no field
    nullable): a contact without an e-mail has no `email` key, not `"email": null`."""
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = orjson.dumps(_without_nulls(payload) if status < 400 else payload)
    return Response(body, status, headers, media_type="application/json")


def error(status: int, message: str | list[str], headers: dict[str, str] | None = None) -> Response:
    body = {"statusCode": status, "message": message, "error": _REASONS.get(status, "Error")}
    return json_response(body, status, headers)


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError:
        raise HttpError(400, "Unexpected token in JSON body") from None
    if not isinstance(body, dict):
        raise HttpError(400, "Body must be a JSON object")
    return body


def _int(value: Any, name: str, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        raise HttpError(422, [f"{name} must be a number"]) from None
    if not low <= number <= high:
        raise HttpError(422, [f"{name} must be between {low} and {high}"])
    return number


def _location(state: GhlState, value: Any, name: str) -> None:
    if not value:
        raise HttpError(422, [f"{name} should not be empty"])
    if value != state.location_id:
        raise HttpError(403, "The token does not have access to this location.")


def _ms(value: Any, name: str) -> int:
    """A time bound or cursor in epoch milliseconds; anything else is the caller's 422."""
    try:
        return parse_ms(value)
    except (ValueError, TypeError, OverflowError):
        raise HttpError(422, [f"{name} must be epoch milliseconds or an ISO date"]) from None


# --- contacts ------------------------------------------------------------------------------------


def _field(record: dict[str, Any], field: str) -> Any:
    if field in ("dateAdded", "dateUpdated"):
        return record["_added" if field == "dateAdded" else "_updated"]
    if field.startswith("customFields."):
        wanted = field.split(".", 1)[1]
        return next((f["value"] for f in record["customFields"] if f["id"] == wanted), None)
    return record.get(field)


def _compare(field: str, actual: Any, operator: str, value: Any) -> bool:
    if field in ("dateAdded", "dateUpdated"):
        bounds = value if operator == "range" else {operator: value}
        checks = {
            "gt": lambda a, b: a > b,
            "gte": lambda a, b: a >= b,
            "lt": lambda a, b: a < b,
            "lte": lambda a, b: a <= b,
            "eq": lambda a, b: a == b,
        }
        return all(checks[op](actual, _ms(bound, field)) for op, bound in bounds.items())
    if field == "phone":
        actual, value = e164(actual), e164(str(value))
    if field == "tags":
        tags = {t.lower() for t in actual or []}
        wanted = [value] if isinstance(value, str) else list(value)
        if operator in ("eq", "contains"):
            return all(str(w).lower() in tags for w in wanted)
        if operator == "not_contains":
            return not any(str(w).lower() in tags for w in wanted)
    if isinstance(actual, str) and isinstance(value, str):
        actual, value = actual.lower(), value.lower()
    if operator == "eq":
        return actual == value
    if operator == "not_eq":
        return actual != value
    if operator == "contains":
        return actual is not None and str(value) in str(actual)
    if operator == "exists":
        return actual not in (None, "", [])
    if operator == "not_exists":
        return actual in (None, "", [])
    raise HttpError(422, [f"Unsupported operator {operator!r} for field {field!r}"])


def _matcher(filters: list[dict[str, Any]], group: str = "AND") -> Callable[[dict], bool]:
    parts: list[Callable[[dict], bool]] = []
    for item in filters:
        if "group" in item:
            parts.append(_matcher(item.get("filters") or [], str(item["group"]).upper()))
            continue
        field, operator = item.get("field"), item.get("operator")
        if not field or not operator:
            raise HttpError(422, ["filters must have field and operator"])
        value = item.get("value")
        parts.append(lambda r, f=field, o=operator, v=value: _compare(f, _field(r, f), o, v))
    if group == "OR":
        return lambda record: any(part(record) for part in parts) if parts else True
    return lambda record: all(part(record) for part in parts)


def _query_matcher(query: str | None) -> Callable[[dict], bool]:
    if not query:
        return lambda record: True
    needle = query.lower()
    return lambda r: any(
        needle in str(r.get(f) or "").lower() for f in ("contactName", "email", "phone")
    )


def _ordered(
    view: list[tuple[int, str]], descending: bool, after: tuple[int, str] | None
) -> Iterable[tuple[int, str]]:
    if after is None:
        return reversed(view) if descending else view
    if descending:
        return reversed(view[: bisect.bisect_left(view, after)])
    return view[bisect.bisect_right(view, after) :]


async def search_contacts(request: Request, state: GhlState) -> Response:
    body = await _body(request)
    _location(state, body.get("locationId"), "locationId")
    limit = _int(body.get("pageLimit"), "pageLimit", 20, 1, 500)
    page = _int(body.get("page"), "page", 1, 1, 1_000_000)
    sort = (body.get("sort") or [{"field": "dateAdded", "direction": "desc"}])[0]
    field = sort.get("field", "dateAdded")
    if field not in ("dateAdded", "dateUpdated"):
        raise HttpError(422, [f"sort field {field!r} is not supported"])
    descending = str(sort.get("direction", "desc")).lower() == "desc"
    after_raw = body.get("searchAfter")
    after = None
    if after_raw:
        if not isinstance(after_raw, list) or len(after_raw) != 2:
            raise HttpError(422, ["searchAfter must be the searchAfter of a returned contact"])
        after = (_ms(after_raw[0], "searchAfter"), str(after_raw[1]))
    elif page * limit > PAGED_SEARCH_LIMIT:
        raise HttpError(
            400,
            f"page * pageLimit cannot exceed {PAGED_SEARCH_LIMIT}; use searchAfter to page further",
        )
    matches = _matcher(body.get("filters") or [])
    query = _query_matcher(body.get("query"))
    key = "_added" if field == "dateAdded" else "_updated"
    with state.lock:
        view = state.view("contacts", key)
        contacts = state.contacts
        total = sum(1 for _, cid in view if matches(contacts[cid]) and query(contacts[cid]))
        skip = 0 if after else (page - 1) * limit
        out: list[dict[str, Any]] = []
        for sort_value, cid in _ordered(view, descending, after):
            record = contacts[cid]
            if not (matches(record) and query(record)):
                continue
            if skip:
                skip -= 1
                continue
            out.append({**state.public(record), "searchAfter": [sort_value, cid]})
            if len(out) == limit:
                break
    return json_response({"contacts": out, "total": total})


async def list_contacts(request: Request, state: GhlState) -> Response:
    params = request.query_params
    _location(state, params.get("locationId"), "locationId")
    limit = _int(params.get("limit"), "limit", 20, 1, 100)
    start_after, start_after_id = params.get("startAfter"), params.get("startAfterId")
    query = _query_matcher(params.get("query"))
    with state.lock:
        view = state.view("contacts", "_added")
        contacts = state.contacts
        after = None
        if start_after and start_after_id:
            after = (_ms(start_after, "startAfter"), start_after_id)
        elif start_after:
            after = (_ms(start_after, "startAfter"), "\uffff")
        position = bisect.bisect_right(view, after) if after else 0
        out: list[dict[str, Any]] = []
        more = False
        for _, cid in view[position:]:
            record = contacts[cid]
            if not query(record):
                continue
            if len(out) == limit:
                more = True
                break
            out.append(state.public(record))
        total = (
            len(view) if not params.get("query") else sum(1 for _, c in view if query(contacts[c]))
        )
    current = position // limit + 1
    meta: dict[str, Any] = {
        "total": total,
        "currentPage": current,
        "nextPage": current + 1 if more else None,
        "prevPage": current - 1 if current > 1 else None,
        "startAfter": None,
        "startAfterId": None,
        "nextPageUrl": None,
    }
    if out:
        last = contacts[out[-1]["id"]]
        meta["startAfter"], meta["startAfterId"] = last["_added"], last["id"]
        if more:
            query_string = urlencode(
                {
                    "locationId": state.location_id,
                    "limit": limit,
                    "startAfter": last["_added"],
                    "startAfterId": last["id"],
                }
            )
            meta["nextPageUrl"] = f"{str(request.url).split('?')[0]}?{query_string}"
    return json_response({"contacts": out, "meta": meta})


def _contact_or_404(state: GhlState, contact_id: str) -> dict[str, Any]:
    record = state.contacts.get(contact_id)
    if record is None:
        raise HttpError(400, "Contact not found")
    return record


async def get_contact(request: Request, state: GhlState) -> Response:
    with state.lock:
        record = _contact_or_404(state, request.path_params["contact_id"])
        return json_response({"contact": state.public(record)})


async def upsert_contact(request: Request, state: GhlState) -> Response:
    body = await _body(request)
    _location(state, body.get("locationId"), "locationId")
    if not (body.get("phone") or body.get("email")):
        raise HttpError(422, ["phone or email is required"])
    with state.lock:
        existing = state.find_for_upsert(body)
        if existing is None:
            record, new = state.create_contact(body), True
        else:
            record, new = state.update_contact(existing, body), False
        return json_response(
            {"new": new, "contact": state.public(record), "traceId": f"sim-{state.requests}"}
        )


async def create_contact(request: Request, state: GhlState) -> Response:
    body = await _body(request)
    _location(state, body.get("locationId"), "locationId")
    with state.lock:
        existing = state.find_for_upsert(body)
        if existing is not None:
            raise HttpError(400, "This location does not allow duplicated contacts.")
        record = state.create_contact(body)
        return json_response({"contact": state.public(record)}, 201)


async def update_contact(request: Request, state: GhlState) -> Response:
    body = await _body(request)
    with state.lock:
        record = _contact_or_404(state, request.path_params["contact_id"])
        state.update_contact(record, body)
        return json_response({"succeded": True, "contact": state.public(record)})


# --- opportunities -------------------------------------------------------------------------------


def _with_contact(state: GhlState, record: dict[str, Any]) -> dict[str, Any]:
    contact = state.contacts.get(record["contactId"])
    summary = None
    if contact is not None:
        summary = {
            "id": contact["id"],
            "name": contact.get("contactName"),
            "companyName": contact.get("companyName"),
            "email": contact.get("email"),
            "phone": contact.get("phone"),
            "tags": contact.get("tags"),
        }
    return {**state.public(record), "contact": summary}


_OPP_FILTERS = {
    "pipeline_id": "pipelineId",
    "pipeline_stage_id": "pipelineStageId",
    "contact_id": "contactId",
    "assigned_to": "assignedTo",
    "id": "id",
}


async def search_opportunities(request: Request, state: GhlState) -> Response:
    params = request.query_params
    _location(state, params.get("location_id"), "location_id")
    limit = _int(params.get("limit"), "limit", 20, 1, 100)
    page = _int(params.get("page"), "page", 1, 1, 1_000_000)
    order = params.get("order") or "added_desc"
    if order not in ("added_asc", "added_desc"):
        raise HttpError(422, ["order must be added_asc or added_desc"])
    descending = order == "added_desc"
    status = params.get("status")
    if status and status not in ("open", "won", "lost", "abandoned", "all"):
        raise HttpError(422, ["status must be one of open, won, lost, abandoned, all"])
    wanted = {field: params[name] for name, field in _OPP_FILTERS.items() if params.get(name)}
    needle = (params.get("q") or "").lower()

    def matches(record: dict[str, Any]) -> bool:
        if status and status != "all" and record["status"] != status:
            return False
        if any(record.get(field) != value for field, value in wanted.items()):
            return False
        return not needle or needle in str(record.get("name") or "").lower()

    after = None
    if params.get("startAfter") and params.get("startAfterId"):
        after = (_ms(params["startAfter"], "startAfter"), params["startAfterId"])
    with state.lock:
        view = state.view("opportunities", "_created")
        records = state.opportunities
        matching = [item for item in _ordered(view, descending, None) if matches(records[item[1]])]
        if after is not None:
            keys = [k for k in _ordered(view, descending, after) if matches(records[k[1]])]
            position = len(matching) - len(keys)
            current = position // limit + 1
        else:
            position = (page - 1) * limit
            keys = matching[position:]
            current = page
        chosen = keys[:limit]
        out = [_with_contact(state, records[cid]) for _, cid in chosen]
    more = len(keys) > limit
    meta: dict[str, Any] = {
        "total": len(matching),
        "currentPage": current,
        "nextPage": current + 1 if more else None,
        "prevPage": current - 1 if current > 1 else None,
        "startAfter": chosen[-1][0] if chosen else None,
        "startAfterId": chosen[-1][1] if chosen else None,
        "nextPageUrl": None,
    }
    if more:
        query = dict(params)
        query.update(
            startAfter=str(chosen[-1][0]), startAfterId=chosen[-1][1], page=str(current + 1)
        )
        meta["nextPageUrl"] = f"{str(request.url).split('?')[0]}?{urlencode(query)}"
    return json_response({"opportunities": out, "meta": meta, "aggregations": {}})


async def get_pipelines(request: Request, state: GhlState) -> Response:
    _location(state, request.query_params.get("locationId"), "locationId")
    return json_response({"pipelines": state.pipelines})


def _opportunity_or_404(state: GhlState, opp_id: str) -> dict[str, Any]:
    record = state.opportunities.get(opp_id)
    if record is None:
        raise HttpError(404, "Opportunity not found")
    return record


def _check_stage(state: GhlState, pipeline_id: str, stage_id: str | None) -> None:
    if state.pipeline(pipeline_id) is None:
        raise HttpError(422, ["pipelineId is not a pipeline of this location"])
    if stage_id and state.stage(pipeline_id, stage_id) is None:
        raise HttpError(422, ["pipelineStageId is not a stage of the pipeline"])


async def get_opportunity(request: Request, state: GhlState) -> Response:
    with state.lock:
        record = _opportunity_or_404(state, request.path_params["opp_id"])
        return json_response({"opportunity": _with_contact(state, record)})


async def create_opportunity(request: Request, state: GhlState) -> Response:
    body = await _body(request)
    missing = [
        f for f in ("pipelineId", "locationId", "name", "status", "contactId") if not body.get(f)
    ]
    if missing:
        raise HttpError(422, [f"{name} should not be empty" for name in missing])
    _location(state, body["locationId"], "locationId")
    with state.lock:
        _check_stage(state, body["pipelineId"], body.get("pipelineStageId"))
        if body["contactId"] not in state.contacts:
            raise HttpError(422, ["contactId is not a contact of this location"])
        if not state.allow_duplicate_opportunities and any(
            o["contactId"] == body["contactId"] and o["pipelineId"] == body["pipelineId"]
            for o in state.opportunities.values()
        ):
            raise HttpError(400, "Can not create duplicate opportunity for the contact.")
        record = state.create_opportunity(body)
        return json_response({"opportunity": _with_contact(state, record)}, 201)


async def update_opportunity(request: Request, state: GhlState) -> Response:
    body = await _body(request)
    with state.lock:
        record = _opportunity_or_404(state, request.path_params["opp_id"])
        pipeline_id = body.get("pipelineId") or record["pipelineId"]
        stage_id = body.get("pipelineStageId")
        if body.get("pipelineId") and not stage_id:
            stage_id = (
                state.pipeline(pipeline_id)["stages"][0]["id"]
                if state.pipeline(pipeline_id)
                else None
            )
            body["pipelineStageId"] = stage_id
        _check_stage(state, pipeline_id, stage_id)
        status = body.get("status")
        if status and status not in ("open", "won", "lost", "abandoned"):
            raise HttpError(422, ["status must be one of open, won, lost, abandoned"])
        state.update_opportunity(record, body)
        return json_response({"opportunity": _with_contact(state, record)})


async def update_opportunity_status(request: Request, state: GhlState) -> Response:
    body = await _body(request)
    status = body.get("status")
    if status not in ("open", "won", "lost", "abandoned"):
        raise HttpError(422, ["status must be one of open, won, lost, abandoned"])
    with state.lock:
        record = _opportunity_or_404(state, request.path_params["opp_id"])
        state.update_opportunity(record, {"status": status})
        return json_response({"succeded": True})


ROUTES: list[tuple[str, str, Handler]] = [
    ("/contacts/search", "POST", search_contacts),
    ("/contacts/upsert", "POST", upsert_contact),
    ("/contacts/", "GET", list_contacts),
    ("/contacts", "GET", list_contacts),
    ("/contacts/", "POST", create_contact),
    ("/contacts", "POST", create_contact),
    ("/contacts/{contact_id}", "GET", get_contact),
    ("/contacts/{contact_id}", "PUT", update_contact),
    ("/opportunities/search", "GET", search_opportunities),
    ("/opportunities/pipelines", "GET", get_pipelines),
    ("/opportunities/", "POST", create_opportunity),
    ("/opportunities", "POST", create_opportunity),
    ("/opportunities/{opp_id}/status", "PUT", update_opportunity_status),
    ("/opportunities/{opp_id}", "GET", get_opportunity),
    ("/opportunities/{opp_id}", "PUT", update_opportunity),
]


def build_gohighlevel_app(state: GhlState, faults: FaultInjector) -> Starlette:
    """The GHL sub-app: each route wrapped in faults, auth, `Version` and rate limits."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            kind = await faults.strike()
            if kind == "429":
                return error(429, "Too Many Requests", {"Retry-After": "1"})
            if kind == "5xx":
                return error(503, "Service Unavailable")
            if kind == "timeout":
                return error(504, "Gateway Timeout")
            authorization = request.headers.get("Authorization", "")
            if authorization != f"Bearer {state.token}":
                return error(401, "Invalid JWT")
            if request.headers.get("Version") != API_VERSION:
                return error(400, f"Version header is missing or not {API_VERSION}")
            try:
                headers = state.limiter.take()
            except RateLimited as limited:
                message = (
                    "Daily API limit reached for this location"
                    if limited.daily
                    else "Too Many Requests"
                )
                return error(429, message, limited.headers)
            state.requests += 1
            try:
                response = await handler(request, state)
            except HttpError as exc:
                response = error(exc.status, exc.message)
            response.headers.update(headers)
            return response

        return endpoint

    routes = [Route(path, wrap(handler), methods=[method]) for path, method, handler in ROUTES]
    return Starlette(routes=routes)
