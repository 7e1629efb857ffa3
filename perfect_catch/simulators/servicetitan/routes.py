"""HTTP surface of the simulated ServiceTitan: OAuth, exports, lists, reads, writes, admin.

Paths mirror production under the mount prefix: `{module}/v2/tenant/{tenant}/...` for the API
and `auth/connect/token` for OAuth. Every API request passes, in order: fault injection, bearer
token, `ST-App-Key`, tenant, per-tenant rate limit. Errors use `ApiErrorResponse`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from perfect_catch.simulators.faults import FaultInjector
from perfect_catch.simulators.servicetitan.errors import api_error, json_response, too_many_requests
from perfect_catch.simulators.servicetitan.mutations import MALFORMED_KINDS, Mutator
from perfect_catch.simulators.servicetitan.records.shared import Record
from perfect_catch.simulators.servicetitan.refusals import Invalid, NotFound, invalid, is_id
from perfect_catch.simulators.servicetitan.state import TOKEN_TTL_SECONDS, ServiceTitanState
from perfect_catch.simulators.servicetitan.store import TenantStore, TokenError
from perfect_catch.simulators.servicetitan.timefmt import format_ticks, parse_instant

# Module names as they appear in production URLs, with the spec file names as aliases.
MODULES = {
    "crm": "crm",
    "jpm": "jpm",
    "dispatch": "dispatch",
    "sales": "sales",
    "salestech": "sales",
    "accounting": "accounting",
    "equipmentsystems": "equipmentsystems",
    "equipment-systems": "equipmentsystems",
    "settings": "settings",
    "pricebook": "pricebook",
    "marketing": "marketing",
}
EXPORTS: dict[tuple[str, str], str] = {
    ("crm", "customers"): "customers",
    ("crm", "customers/contacts"): "customer-contacts",
    ("crm", "locations"): "locations",
    ("jpm", "jobs"): "jobs",
    ("jpm", "appointments"): "appointments",
    ("dispatch", "appointment-assignments"): "appointment-assignments",
    ("sales", "estimates"): "estimates",
    ("accounting", "invoices"): "invoices",
    ("accounting", "invoice-items"): "invoice-items",
    ("accounting", "payments"): "payments",
    ("equipmentsystems", "installed-equipment"): "installed-equipment",
    ("settings", "technicians"): "technicians",
    ("settings", "employees"): "employees",
    ("settings", "business-units"): "business-units",
    ("pricebook", "materials"): "materials",
    ("pricebook", "equipment"): "pricebook-equipment",
    ("pricebook", "services"): "services",
    ("pricebook", "categories"): "categories",
}
LISTS: dict[tuple[str, str], str] = {
    **{
        key: entity
        for key, entity in EXPORTS.items()
        if entity not in ("invoice-items", "appointment-assignments")
    },
    ("jpm", "job-types"): "job-types",
    ("marketing", "campaigns"): "campaigns",
}
# Entities with a get-by-id route; ServiceTitan reads invoices, payments and contacts only in lists.
GET_BY_ID = frozenset(LISTS.values()) - {"invoices", "payments", "customer-contacts"}
# List endpoints without an `active` filter (jobs: every status is listed).
NO_ACTIVE_FILTER = {"jobs", "payments", "invoices", "customer-contacts"}
# Fields of an export record that the entity's list and get-by-id models do not have
# (e.g. `Jpm.V2.JobResponse` has no `active`, `Jpm.V2.ExportJobResponse` has).
EXPORT_ONLY_FIELDS: dict[str, tuple[str, ...]] = {
    "jobs": ("active",),
    "customer-contacts": ("active",),
}
EQUALITY_FILTERS = (
    "customerId",
    "jobId",
    "locationId",
    "jobStatus",
    "jobTypeId",
    "businessUnitId",
    "technicianId",
    "invoiceId",
    "appointmentId",
)
MAX_PAGE_SIZE = 5000

Handler = Callable[[Request, ServiceTitanState, TenantStore, re.Match[str]], Awaitable[Response]]


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes")


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError as exc:
        raise Invalid("The request body is not valid JSON.", {"body": [str(exc)]}) from None
    if not isinstance(body, dict):
        raise Invalid("The request body must be a JSON object.", {"body": ["Expected object."]})
    return body


# --- export, list, read --------------------------------------------------------------------------


def _read_view(entity: str, record: Record) -> Record:
    """The record as the list and get-by-id routes answer it, without export-only fields."""
    omitted = EXPORT_ONLY_FIELDS.get(entity)
    if not omitted:
        return record
    return {key: value for key, value in record.items() if key not in omitted}


async def export(
    request: Request, state: ServiceTitanState, store: TenantStore, match: re.Match[str]
) -> Response:
    entity = EXPORTS.get((match["module"], match["resource"]))
    if entity is None:
        return api_error(404, f"No export for '{match['resource']}' in {match['module']}.")
    params = request.query_params
    include_recent = _truthy(params.get("includeRecentChanges"))
    try:
        body = store.export_page_json(
            entity,
            params.get("from"),
            include_recent,
            state.export_page_size,
            state.recent_window_ticks,
        )
    except TokenError as exc:
        return api_error(400, "Invalid continuation token.", {"from": [str(exc)]})
    return Response(body, media_type="application/json")


def _instant_param(params: Any, name: str) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        return format_ticks(parse_instant(value))
    except ValueError:
        raise Invalid(
            f"The value '{value}' is not valid for {name}.",
            {name: [f"The value '{value}' is not valid."]},
        ) from None


def _int_param(params: Any, name: str, default: int | None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise Invalid(
            f"The value '{value}' is not valid for {name}.",
            {name: [f"The value '{value}' is not valid."]},
        ) from None


def _matcher(entity: str, params: Any) -> Callable[[Record], bool]:
    checks: list[Callable[[Record], bool]] = []
    active = (params.get("active") or "True").strip().lower()
    if entity not in NO_ACTIVE_FILTER and active != "any":
        if active not in ("true", "false"):
            raise Invalid("Invalid active filter.", {"active": ["Use True, False or Any."]})
        wanted = active == "true"
        checks.append(lambda r: r.get("active") is wanted)
    for name, field, op in (
        ("modifiedOnOrAfter", "modifiedOn", ">="),
        ("modifiedBefore", "modifiedOn", "<"),
        ("createdOnOrAfter", "createdOn", ">="),
        ("createdBefore", "createdOn", "<"),
    ):
        bound = _instant_param(params, name)
        if bound is not None:
            if op == ">=":
                checks.append(lambda r, f=field, b=bound: str(r.get(f)) >= b)
            else:
                checks.append(lambda r, f=field, b=bound: str(r.get(f)) < b)
    for name in EQUALITY_FILTERS:
        value = params.get(name)
        if value:
            wanted_value: Any = int(value) if value.lstrip("-").isdigit() else value
            checks.append(lambda r, n=name, v=wanted_value: r.get(n) == v)
    customer_ids = params.get("customerIds")
    if customer_ids:
        try:
            wanted_customers = {int(part) for part in customer_ids.split(",") if part.strip()}
        except ValueError:
            raise invalid("customerIds", "Use comma-separated integers.") from None
        checks.append(lambda r: r.get("customerId") in wanted_customers)
    status = params.get("status")
    if status and entity == "estimates":
        checks.append(lambda r: (r.get("status") or {}).get("name", "").lower() == status.lower())
    name_filter = params.get("name")
    if name_filter:
        checks.append(lambda r: name_filter.lower() in str(r.get("name", "")).lower())
    return lambda record: all(check(record) for check in checks)


def _candidates(store: TenantStore, entity: str, params: Any) -> Iterator[Record]:
    ids = params.get("ids")
    if ids:
        try:
            wanted = sorted({int(part) for part in ids.split(",") if part.strip()})
        except ValueError:
            raise Invalid("Invalid ids.", {"ids": ["Use comma-separated integers."]}) from None
        for record_id in wanted:
            record = store.get(entity, record_id)
            if record is not None:
                yield record
        return
    yield from store.iter_by_id(entity)


_SORT_FIELDS = {"id": "id", "modifiedon": "modifiedOn", "createdon": "createdOn", "name": "name"}


async def list_records(
    request: Request, state: ServiceTitanState, store: TenantStore, match: re.Match[str]
) -> Response:
    entity = LISTS.get((match["module"], match["resource"]))
    if entity is None:
        return api_error(404, f"Unknown resource '{match['resource']}' in {match['module']}.")
    params = request.query_params
    page = _int_param(params, "page", 1) or 1
    page_size = _int_param(params, "pageSize", 50) or 50
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        return api_error(
            400,
            "Invalid paging.",
            {"pageSize": [f"page must be >= 1 and pageSize between 1 and {MAX_PAGE_SIZE}."]},
        )
    include_total = _truthy(params.get("includeTotal"))
    matches = _matcher(entity, params)
    sort = (params.get("sort") or "").strip()
    with state.lock:
        records: Iterator[Record] = (r for r in _candidates(store, entity, params) if matches(r))
        sort_name = sort.lstrip("+-").lower()
        if sort and (sort_name != "id" or sort.startswith("-")):
            field = _SORT_FIELDS.get(sort_name)
            if field is None:
                return api_error(400, "Invalid sort.", {"sort": [f"Cannot sort by '{sort}'."]})
            ordered = sorted(
                records,
                key=lambda r: (str(r.get(field)), r.get("id") or 0),
                reverse=sort.startswith("-"),
            )
            records = iter(ordered)
        skip = (page - 1) * page_size
        data: list[Record] = []
        seen = 0
        has_more = False
        for record in records:
            seen += 1
            if seen <= skip:
                continue
            if len(data) == page_size:
                has_more = True
                if not include_total:
                    break
                continue
            data.append(record)
    return json_response(
        {
            "page": page,
            "pageSize": page_size,
            "hasMore": has_more,
            "totalCount": seen if include_total else None,
            "data": [_read_view(entity, record) for record in data],
        }
    )


async def get_by_id(
    request: Request, state: ServiceTitanState, store: TenantStore, match: re.Match[str]
) -> Response:
    entity = LISTS.get((match["module"], match["resource"]))
    if entity not in GET_BY_ID:
        return api_error(404, f"No route for GET {match['module']}/{match['resource']}/{{id}}.")
    record = store.get(entity, int(match["id"]))
    if record is None:
        return api_error(
            404, f"{entity} with id {match['id']} was not found.", data={"id": int(match["id"])}
        )
    return json_response(_read_view(entity, record))


# --- writes --------------------------------------------------------------------------------------


def _write(
    action: Callable[[ServiceTitanState, TenantStore, re.Match[str], dict[str, Any]], Any],
    answers: str | None = None,
) -> Handler:
    """A write route; `answers` names the entity whose read model the response follows."""

    async def handler(
        request: Request, state: ServiceTitanState, store: TenantStore, match: re.Match[str]
    ) -> Response:
        body = await _json_body(request)
        with state.lock:
            result = action(state, store, match, body)
        if result is None:
            return Response(status_code=200)
        if answers is not None and isinstance(result, dict):
            result = _read_view(answers, result)
        return json_response(result)

    return handler


def _note_view(entity: str, note: Record) -> Record:
    """A note as ServiceTitan answers it: a job's note (`Jpm.V2.NoteResponse`) has no id."""
    if entity != "jobs":
        return note
    return {key: value for key, value in note.items() if key != "id"}


def _notes_list(entity: str) -> Handler:
    async def handler(
        request: Request, state: ServiceTitanState, store: TenantStore, match: re.Match[str]
    ) -> Response:
        record_id = int(match["id"])
        if not store.exists(entity, record_id):
            raise NotFound(entity, record_id)
        notes = store.notes.get((entity, record_id), [])
        return json_response(
            {
                "page": 1,
                "pageSize": len(notes) or 50,
                "hasMore": False,
                "totalCount": None,
                "data": [_note_view(entity, note) for note in notes],
            }
        )

    return handler


def _mutator(state: ServiceTitanState, store: TenantStore) -> Mutator:
    return state.mutators[store.tenant_id]


def _add_note(entity: str) -> Handler:
    return _write(
        lambda s, st, m, b: _note_view(
            entity,
            _mutator(s, st).add_note(entity, int(m["id"]), b.get("text"), bool(b.get("pinToTop"))),
        )
    )


def _dismiss(
    state: ServiceTitanState, store: TenantStore, m: re.Match[str], body: dict[str, Any]
) -> None:
    _mutator(state, store).dismiss_estimate(int(m["id"]))


def _tag_customer(
    state: ServiceTitanState, store: TenantStore, m: re.Match[str], body: dict[str, Any]
) -> Record:
    return _mutator(state, store).tag_customer(int(m["id"]), int(m["tagTypeId"]))


def _complete_job(
    state: ServiceTitanState, store: TenantStore, m: re.Match[str], body: dict[str, Any]
) -> None:
    """ServiceTitan answers a completion with an empty 200."""
    _mutator(state, store).complete_job(int(m["id"]))


def _update_sku(resource: str) -> Handler:
    return _write(lambda s, st, m, b: _mutator(s, st).update_sku(resource, int(m["id"]), b))


# The write routes, as `{module}/{path}` with `{name}` for a numeric path parameter.
WRITE_ROUTES: list[tuple[str, str, Handler]] = [
    ("POST", "jpm/jobs", _write(lambda s, st, m, b: _mutator(s, st).create_job(b), "jobs")),
    ("PUT", "jpm/jobs/{id}/complete", _write(_complete_job)),
    ("POST", "jpm/jobs/{id}/notes", _add_note("jobs")),
    ("GET", "jpm/jobs/{id}/notes", _notes_list("jobs")),
    ("POST", "crm/customers/{id}/notes", _add_note("customers")),
    ("GET", "crm/customers/{id}/notes", _notes_list("customers")),
    ("POST", "crm/customers/{id}/tags/{tagTypeId}", _write(_tag_customer)),
    (
        "POST",
        "jpm/appointments",
        _write(lambda s, st, m, b: _mutator(s, st).book_appointment(b)),
    ),
    (
        "PATCH",
        "jpm/appointments/{id}/reschedule",
        _write(lambda s, st, m, b: _mutator(s, st).reschedule(int(m["id"]), b)),
    ),
    ("POST", "sales/estimates", _write(lambda s, st, m, b: _mutator(s, st).create_estimate(b))),
    (
        "PUT",
        "sales/estimates/{id}/items",
        _write(lambda s, st, m, b: _mutator(s, st).upsert_estimate_item(int(m["id"]), b)),
    ),
    (
        "PUT",
        "sales/estimates/{id}/sell",
        _write(lambda s, st, m, b: _mutator(s, st).sell_estimate(int(m["id"]), b.get("soldBy"))),
    ),
    ("PUT", "sales/estimates/{id}/dismiss", _write(_dismiss)),
    (
        "POST",
        "dispatch/appointment-assignments/assign-technicians",
        _write(lambda s, st, m, b: _mutator(s, st).assign_technicians(b)),
    ),
    (
        "POST",
        "dispatch/appointment-assignments/unassign-technicians",
        _write(lambda s, st, m, b: _mutator(s, st).unassign_technicians(b)),
    ),
    ("POST", "crm/customers", _write(lambda s, st, m, b: _mutator(s, st).create_customer(b))),
    (
        "POST",
        "crm/customers/{id}/contacts",
        _write(lambda s, st, m, b: _mutator(s, st).add_customer_contact(int(m["id"]), b)),
    ),
    (
        "PATCH",
        "crm/customers/{id}/contacts/{contactId}",
        _write(
            lambda s, st, m, b: _mutator(s, st).update_customer_contact(
                int(m["id"]), int(m["contactId"]), b
            )
        ),
    ),
    ("PATCH", "pricebook/services/{id}", _update_sku("services")),
    ("PATCH", "pricebook/materials/{id}", _update_sku("materials")),
    ("PATCH", "pricebook/equipment/{id}", _update_sku("equipment")),
    ("POST", "dispatch/capacity", _write(lambda s, st, m, b: _mutator(s, st).capacity(b))),
]


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>\\d+)", template))


API_ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("GET", re.compile(r"(?P<module>[a-z-]+)/export/(?P<resource>[a-z-]+(?:/contacts)?)"), export),
    *((method, _pattern(template), handler) for method, template, handler in WRITE_ROUTES),
    ("GET", re.compile(r"(?P<module>[a-z-]+)/(?P<resource>[a-z-]+)/(?P<id>\d+)"), get_by_id),
    ("GET", re.compile(r"(?P<module>[a-z-]+)/(?P<resource>[a-z-]+(?:/contacts)?)"), list_records),
]


def served_operations() -> set[tuple[str, str, str]]:
    """Every (method, module, path after the tenant) this simulator answers, `{id}` for an id.

    What a conformance test compares with the spec's operations and with the clients' calls.
    """
    served = {("GET", module, f"export/{resource}") for module, resource in EXPORTS}
    for (module, resource), entity in LISTS.items():
        served.add(("GET", module, resource))
        if entity in GET_BY_ID:
            served.add(("GET", module, f"{resource}/{{id}}"))
    for method, template, _ in WRITE_ROUTES:
        module, _, path = template.partition("/")
        served.add((method, module, path))
    return served


class ServiceTitanApi:
    """Dispatches `{module}/v2/tenant/{tenant}/{rest}` requests through the checks above."""

    def __init__(self, state: ServiceTitanState, faults: FaultInjector) -> None:
        self.state = state
        self.faults = faults

    async def fault(self) -> Response | None:
        kind = await self.faults.strike()
        if kind == "429":
            return too_many_requests(2)
        if kind == "5xx":
            return api_error(
                503, "Service Unavailable. The server is temporarily unable to handle the request."
            )
        if kind == "timeout":
            return api_error(504, "Gateway Timeout.")
        return None

    async def __call__(self, request: Request) -> Response:
        injected = await self.fault()
        if injected is not None:
            return injected
        state = self.state
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        tenant_text = request.path_params["tenant"]
        asked = int(tenant_text) if tenant_text.isdigit() else None
        if scheme.lower() != "bearer" or not state.token_valid(token.strip(), asked):
            return api_error(
                401,
                "Unauthorized. The access token is missing, invalid or expired.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if request.headers.get("st-app-key") != state.app_key:
            return api_error(403, "Forbidden. The ST-App-Key header is missing or invalid.")
        module = MODULES.get(request.path_params["module"])
        store = state.tenants.get(asked) if asked is not None else None
        if store is None:
            return api_error(
                404,
                f"Tenant {tenant_text} was not found or is not accessible with these credentials.",
            )
        wait = state.rate_limited(store.tenant_id)
        if wait:
            return too_many_requests(wait)
        if module is None:
            return api_error(404, f"Unknown module '{request.path_params['module']}'.")
        path = f"{module}/{request.path_params['rest'].strip('/')}"
        for method, pattern, handler in API_ROUTES:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if method != request.method:
                continue
            beyond = [
                name
                for name, value in match.groupdict().items()
                if value and value.isdigit() and not is_id(int(value))
            ]
            if beyond:
                message = f"No record has the {beyond[0]} {match[beyond[0]]}."
                return api_error(404, message, {beyond[0]: [message]})
            try:
                return await handler(request, state, store, match)
            except NotFound as exc:
                data = {exc.field: exc.record_id} if is_id(exc.record_id) else {}
                return api_error(404, str(exc), {exc.field: [str(exc)]}, data=data)
            except Invalid as exc:
                return api_error(exc.status, str(exc), exc.errors)
        if any(pattern.fullmatch(path) for _, pattern, _ in API_ROUTES):
            return api_error(405, f"Method {request.method} is not allowed here.")
        return api_error(404, f"No route for {request.method} {path}.")


# --- OAuth ---------------------------------------------------------------------------------------


def token_endpoint(
    state: ServiceTitanState, faults: FaultInjector
) -> Callable[[Request], Awaitable[Response]]:
    async def token(request: Request) -> Response:
        await faults.delay()
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if form.get("grant_type") != "client_credentials":
            return json_response({"error": "unsupported_grant_type"}, 400)
        state.token_clients.append(form.get("client_id", ""))
        tenant = state.client_tenant(form.get("client_id", ""), form.get("client_secret", ""))
        if tenant is False:
            return json_response({"error": "invalid_client"}, 400)
        ttl = faults.token_ttl(TOKEN_TTL_SECONDS)
        return json_response(
            {
                "access_token": state.issue_token(ttl, tenant),
                "token_type": "Bearer",
                "expires_in": max(1, math.ceil(ttl)),
                "scope": "tn.*",
            }
        )

    return token


# --- admin ---------------------------------------------------------------------------------------


def admin_routes(state: ServiceTitanState) -> list[Route]:
    """Drive the simulation from another process (the demo) or inspect it."""

    async def stats(request: Request) -> Response:
        return json_response(state.stats())

    async def advance(request: Request) -> Response:
        body = await _admin_body(request)
        days = int(body.get("days", 1))
        return json_response({"days": state.advance(days), **state.stats()})

    async def expire_tokens(request: Request) -> Response:
        state.expire_tokens()
        return json_response({"expired": True})

    async def malformed(request: Request) -> Response:
        body = await _admin_body(request)
        kind = body.get("kind", "bad_modified_on")
        if kind not in MALFORMED_KINDS:
            return json_response({"error": f"kind must be one of {MALFORMED_KINDS}"}, 400)
        record = state.make_malformed(body["entity"], int(body["id"]), kind, body.get("tenant"))
        return json_response(record)

    async def tied(request: Request) -> Response:
        body = await _admin_body(request)
        records = state.create_tied(body["entity"], int(body.get("count", 3)), body.get("tenant"))
        return json_response(
            {
                "ids": [r["id"] for r in records],
                "modifiedOn": records[0]["modifiedOn"] if records else None,
            }
        )

    async def touch(request: Request) -> Response:
        body = await _admin_body(request)
        records = state.touch(
            body["entity"],
            [int(i) for i in body["ids"]],
            body.get("tenant"),
            bool(body.get("sameInstant")),
            **(body.get("changes") or {}),
        )
        return json_response(
            {
                "ids": [r.get("id") for r in records],
                "modifiedOn": [r.get("modifiedOn") for r in records],
            }
        )

    async def config(request: Request) -> Response:
        if request.method == "PUT":
            body = await _admin_body(request)
            if "exportPageSize" in body:
                state.export_page_size = max(1, int(body["exportPageSize"]))
            if "rateLimit" in body:
                state.rate_limit = int(body["rateLimit"])
        return json_response(
            {
                "exportPageSize": state.export_page_size,
                "rateLimit": state.rate_limit,
                "tenants": state.tenant_ids,
            }
        )

    return [
        Route("/_admin/state", stats, methods=["GET"]),
        Route("/_admin/advance", advance, methods=["POST"]),
        Route("/_admin/expire-tokens", expire_tokens, methods=["POST"]),
        Route("/_admin/malformed", malformed, methods=["POST"]),
        Route("/_admin/tied", tied, methods=["POST"]),
        Route("/_admin/touch", touch, methods=["POST"]),
        Route("/_admin/config", config, methods=["GET", "PUT"]),
    ]


async def _admin_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    body = orjson.loads(raw) if raw else {}
    return body if isinstance(body, dict) else {}


def build_servicetitan_app(state: ServiceTitanState, faults: FaultInjector) -> Starlette:
    api = ServiceTitanApi(state, faults)

    async def endpoint(request: Request) -> Response:
        try:
            return await api(request)
        except Invalid as exc:
            return api_error(exc.status, str(exc), exc.errors)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    routes = [
        Route("/auth/connect/token", token_endpoint(state, faults), methods=["POST"]),
        *admin_routes(state),
        Route("/{module}/v2/tenant/{tenant}/{rest:path}", endpoint, methods=methods),
    ]
    return Starlette(routes=routes)
