"""Every simulated ServiceTitan and GoHighLevel response validates against the official spec.

Each route the simulators serve is requested in-process (small size, several seeds; the first,
second and last export pages, later pages with and without `includeRecentChanges`; list pages
with inactive and merged records; get-by-id; every write and its refusals) and the body is
validated with `jsonschema` against the operation's response schema for the status answered.
The route tables are compared as well: every simulated route is a spec operation, every call
the clients make has a simulated route, and every simulated route was validated.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from client_calls import gohighlevel_client_operations, servicetitan_client_operations
from openapi_specs import SPECS, Specs, normalized
from starlette.testclient import TestClient

from perfect_catch.simulators.gohighlevel import GoHighLevelSystem
from perfect_catch.simulators.gohighlevel.routes import ROUTES as GHL_ROUTES
from perfect_catch.simulators.gohighlevel.state import API_VERSION
from perfect_catch.simulators.servicetitan import ServiceTitanSystem
from perfect_catch.simulators.servicetitan.routes import served_operations

pytestmark = pytest.mark.skipif(
    not SPECS.is_dir(), reason=f"the official OpenAPI specs are not beside the checkout: {SPECS}"
)

SEEDS = (1, 2, 3)
EXPORT_PAGE_SIZE = 15
LIST_PAGE_SIZE = 10
SERVICE, MATERIAL, EQUIPMENT = 8001, 6003, 7002
ADDRESS = {"street": "1 Palm Ln", "city": "Mesa", "state": "AZ", "zip": "85201", "country": "USA"}

# Where the spec is known to be wrong about what the live API sends, one field at a time:
# (system, spec path of the operation, field path in the body with `*` for an index) -> why.
# Empty: every simulated response validates as the spec stands.
SPEC_EXCEPTIONS: dict[tuple[str, str, str], str] = {
    ("gohighlevel", "/contacts/search", "<body>"): (
        "the spec gives the 200 answer no body; the API answers {contacts, total}, which the "
        "client pages through"
    ),
    ("gohighlevel", "/opportunities/pipelines", "pipelines/*/stages/*"): (
        "the spec types a stage as an array (`items: {type: array}`, nothing more); the API "
        "sends stage objects {id, name, position}, whose ids the client maps"
    ),
    **{
        ("gohighlevel", path, field): (
            "the spec types indexVersion as a string, but its own example is the number 1"
        )
        for path, field in (
            ("/opportunities/search", "opportunities/*/indexVersion"),
            ("/opportunities/{id}", "opportunity/indexVersion"),
            ("/opportunities/", "opportunity/indexVersion"),
        )
    },
}
# Simulated ServiceTitan writes no client makes, and why the simulator serves them anyway. (Every
# simulated read is a client call: the agent's `call_st_api` may GET any path.)
SIMULATOR_ONLY: dict[tuple[str, str, str], str] = {
    ("PUT", "jpm", "jobs/{}/complete"): "the demo and tests complete jobs over HTTP",
}
GHL_SIMULATOR_ONLY: dict[tuple[str, str], str] = {
    ("POST", "/contacts"): "GoHighLevel's plain create, beside the upsert the client uses",
}
# Client calls with no simulated route, and why.
CLIENT_ONLY: dict[tuple[str, str], str] = {
    ("taskmanagement", "tasks"): "no official spec file holds the Task Management API",
}


@pytest.fixture(scope="module")
def specs() -> Specs:
    return Specs()


class Validation:
    """Validates answers and remembers which spec operations it validated."""

    def __init__(self, specs: Specs, system: str) -> None:
        self.specs = specs
        self.system = system
        self.validated: set[tuple[str | None, str, str]] = set()
        self.failures: list[str] = []

    def check(
        self, module: str | None, method: str, spec_path: str, response: httpx.Response
    ) -> Any:
        operation = self.specs.find(self.system, module, method, spec_path)
        assert operation is not None, f"{method} {module} {spec_path} is not in the spec"
        body = response.json() if response.content else None
        for error in self.specs.errors(operation, response.status_code, body):
            where, _, message = error.partition(": ")
            field = "/".join("*" if part.isdigit() else part for part in where.split("/"))
            if (self.system, operation.path, field) not in SPEC_EXCEPTIONS:
                status = response.status_code
                self.failures.append(
                    f"{method} {module or ''} {operation.path} {status} {field}: {message}"
                )
        self.validated.add((module, method, normalized(operation.path)))
        return body

    def assert_clean(self) -> None:
        assert not self.failures, "\n".join(sorted(set(self.failures)))


# --- the route tables ----------------------------------------------------------------------------


def _st_spec_path(path: str) -> str:
    return normalized(f"/tenant/{{tenant}}/{path}")


def test_every_simulated_servicetitan_route_is_a_spec_operation(specs: Specs) -> None:
    missing = sorted(
        (method, module, path)
        for method, module, path in served_operations()
        if specs.find("servicetitan", module, method, _st_spec_path(path)) is None
    )
    assert not missing, f"simulated but not in the spec: {missing}"


def test_every_simulated_gohighlevel_route_is_a_spec_operation(specs: Specs) -> None:
    missing = sorted(
        (method, path)
        for path, method, _ in GHL_ROUTES
        if specs.find("gohighlevel", None, method, path) is None
        and specs.find("gohighlevel", None, method, path + "/") is None
    )
    assert not missing, f"simulated but not in the spec: {missing}"


def test_simulated_servicetitan_routes_are_the_ones_the_clients_call() -> None:
    served = {(method, module, normalized(path)) for method, module, path in served_operations()}
    calls = servicetitan_client_operations()
    unserved = sorted(
        (str(method), module, path)
        for method, module, path in calls
        if (module, path) not in CLIENT_ONLY
        and not any(
            (method is None or method == m) and (module, path) == (mod, p) for m, mod, p in served
        )
    )
    assert not unserved, f"the clients call these, the simulator does not serve them: {unserved}"
    written = {(module, path) for method, module, path in calls if method != "GET"}
    uncalled = sorted(op for op in served if op[0] != "GET" and (op[1], op[2]) not in written)
    assert uncalled == sorted(SIMULATOR_ONLY), "simulated writes no client makes changed"
    assert not CLIENT_ONLY.keys() & {(m, p) for _, m, p in served}


def test_simulated_gohighlevel_routes_are_the_ones_the_client_calls() -> None:
    served = {(method, normalized(path)) for path, method, _ in GHL_ROUTES}
    calls = gohighlevel_client_operations()
    assert not calls - served, "the client calls these, the simulator does not serve them"
    assert served - calls == set(GHL_SIMULATOR_ONLY)


# --- ServiceTitan --------------------------------------------------------------------------------


class StSession:
    """A simulated ServiceTitan tenant, called in-process with a valid token."""

    def __init__(self, seed: int) -> None:
        self.system = ServiceTitanSystem(
            seed=seed, size="small", export_page_size=EXPORT_PAGE_SIZE, rate_limit=0
        )
        self.client = TestClient(self.system.app)
        state = self.system.state
        form = {
            "grant_type": "client_credentials",
            "client_id": state.client_id,
            "client_secret": state.client_secret,
        }
        token = self.client.post("/auth/connect/token", data=form).json()["access_token"]
        self.headers = {"Authorization": f"Bearer {token}", "ST-App-Key": state.app_key}
        self.tenant = state.tenant_ids[0]
        self.store = state.tenants[self.tenant]

    def call(self, method: str, module: str, path: str, **kwargs: Any) -> httpx.Response:
        url = f"/{module}/v2/tenant/{self.tenant}/{path}"
        return self.client.request(method, url, headers=self.headers, **kwargs)


@pytest.fixture(scope="module", params=SEEDS, ids=lambda seed: f"seed{seed}")
def st(request: pytest.FixtureRequest) -> Iterator[StSession]:
    session = StSession(request.param)
    # A merged customer (inactive, pointing at the one it joined) in every seed, not by chance.
    first, second = [c["id"] for c in session.store.iter_by_id("customers")][:2]
    session.system.state.mutators[session.tenant].merge_customer(second, first)
    yield session
    session.client.close()


def _export_pages(st: StSession, module: str, resource: str) -> Iterator[httpx.Response]:
    """The first page; the second, and the end of the feed, each with and without recent changes.

    The end token is found with one page holding the whole feed, so the test does not walk it.
    """
    path = f"export/{resource}"
    first = st.call("GET", module, path)
    yield first
    state = st.system.state
    state.export_page_size = 1_000_000
    try:
        end = st.call("GET", module, path).json()
    finally:
        state.export_page_size = EXPORT_PAGE_SIZE
    assert not end["hasMore"]
    for start in (first.json()["continueFrom"], end["continueFrom"]):
        for recent in ("false", "true"):
            params = {"from": start, "includeRecentChanges": recent}
            yield st.call("GET", module, path, params=params)


def _reads(st: StSession, check: Validation) -> tuple[int, int]:
    """Validate every export, list and get-by-id; count the inactive and merged records seen."""
    inactive = merged = 0
    served = served_operations()
    for method, module, path in sorted(served):
        if method != "GET" or "{" in path:
            continue
        if path.startswith("export/"):
            for response in _export_pages(st, module, path.removeprefix("export/")):
                assert response.status_code == 200, response.text
                data = check.check(module, "GET", _st_spec_path(path), response)["data"]
                inactive += sum(1 for r in data if r.get("active") is False)
                merged += sum(1 for r in data if r.get("mergedToId"))
            continue
        for params in (
            {"pageSize": LIST_PAGE_SIZE},
            {"pageSize": LIST_PAGE_SIZE, "page": 2, "active": "Any", "includeTotal": "true"},
            {"pageSize": LIST_PAGE_SIZE, "active": "False"},
        ):
            response = st.call("GET", module, path, params=params)
            assert response.status_code == 200, response.text
            data = check.check(module, "GET", _st_spec_path(path), response)["data"]
            if data and ("GET", module, f"{path}/{{id}}") in served:
                for record in (data[0], data[-1]):
                    one = st.call("GET", module, f"{path}/{record['id']}")
                    assert one.status_code == 200, one.text
                    check.check(module, "GET", _st_spec_path(f"{path}/{{id}}"), one)
    return inactive, merged


def _ok(response: httpx.Response) -> httpx.Response:
    assert response.status_code == 200, response.text
    return response


def _writes(st: StSession, check: Validation) -> None:
    """Every write route once, valid, and a refusal of each kind the spec documents."""

    def write(method: str, module: str, path: str, spec: str, **kwargs: Any) -> Any:
        response = st.call(method, module, path, **kwargs)
        return check.check(module, method, _st_spec_path(spec), response)

    customer = write(
        "POST",
        "crm",
        "customers",
        "customers",
        json={
            "name": "Rosa Diaz",
            "type": "Residential",
            "address": ADDRESS,
            "contacts": [
                {"type": "MobilePhone", "value": "+1 (480) 555-0142", "memo": "cell"},
                {"type": "Email", "value": "rosa@example.com"},
            ],
            "locations": [{"name": "Rosa Diaz", "address": ADDRESS}],
        },
    )
    customer_id, location_id = customer["id"], customer["locations"][0]["id"]
    write(
        "POST", "crm", f"customers/{customer_id}/notes", "customers/{id}/notes", json={"text": "Hi"}
    )
    write("GET", "crm", f"customers/{customer_id}/notes", "customers/{id}/notes")
    write("POST", "crm", f"customers/{customer_id}/tags/77", "customers/{id}/tags/{tagTypeId}")
    contact = write(
        "POST",
        "crm",
        f"customers/{customer_id}/contacts",
        "customers/{id}/contacts",
        json={"type": "Phone", "value": "480-555-0143", "memo": "office"},
    )
    write(
        "PATCH",
        "crm",
        f"customers/{customer_id}/contacts/{contact['id']}",
        "customers/{id}/contacts/{contactId}",
        json={"value": "480-555-0144"},
    )
    day = "2026-05-04"
    job = write(
        "POST",
        "jpm",
        "jobs",
        "jobs",
        json={
            "customerId": customer_id,
            "locationId": location_id,
            "businessUnitId": 3000,
            "jobTypeId": 4001,
            "priority": "Normal",
            "campaignId": 5000,
            "summary": "Pump is loud",
            "appointments": [
                {"start": f"{day}T15:00:00Z", "end": f"{day}T17:00:00Z", "technicianIds": [1002]}
            ],
        },
    )
    job_id, appointment_id = job["id"], job["firstAppointmentId"]
    write("POST", "jpm", f"jobs/{job_id}/notes", "jobs/{id}/notes", json={"text": "Called"})
    write("GET", "jpm", f"jobs/{job_id}/notes", "jobs/{id}/notes")
    write(
        "POST",
        "jpm",
        "appointments",
        "appointments",
        json={"jobId": job_id, "start": f"{day}T19:00:00Z", "end": f"{day}T20:00:00Z"},
    )
    write(
        "PATCH",
        "jpm",
        f"appointments/{appointment_id}/reschedule",
        "appointments/{id}/reschedule",
        json={"start": f"{day}T16:00:00Z", "end": f"{day}T18:00:00Z"},
    )
    assignment = {"jobAppointmentId": appointment_id, "technicianIds": [1010]}
    for action in ("assign", "unassign"):
        path = f"appointment-assignments/{action}-technicians"
        write("POST", "dispatch", path, path, json=assignment)
    write(
        "POST",
        "dispatch",
        "capacity",
        "capacity",
        json={
            "startsOnOrAfter": f"{day}T00:00:00Z",
            "endsOnOrBefore": "2026-05-05T00:00:00Z",
            "skillBasedAvailability": False,
        },
    )
    estimates = []
    for name in ("Pump replacement", "Filter"):
        estimates.append(
            write(
                "POST",
                "sales",
                "estimates",
                "estimates",
                json={
                    "jobId": job_id,
                    "name": name,
                    "items": [
                        {"skuId": SERVICE, "quantity": 1},
                        {"skuId": MATERIAL, "quantity": 2},
                    ],
                },
            )["id"]
        )
    first, second = estimates
    write(
        "PUT",
        "sales",
        f"estimates/{first}/items",
        "estimates/{id}/items",
        json={"skuId": EQUIPMENT},
    )
    write("PUT", "sales", f"estimates/{first}/sell", "estimates/{id}/sell", json={"soldBy": 1001})
    write("PUT", "sales", f"estimates/{second}/dismiss", "estimates/{id}/dismiss")
    for resource, sku in (("services", SERVICE), ("materials", MATERIAL), ("equipment", EQUIPMENT)):
        write("PATCH", "pricebook", f"{resource}/{sku}", f"{resource}/{{id}}", json={"price": 99.5})
    write("PUT", "jpm", f"jobs/{job_id}/complete", "jobs/{id}/complete")
    # Refusals: not found, invalid.
    for method, module, path, spec, body in (
        ("POST", "jpm", "jobs/1/notes", "jobs/{id}/notes", {"text": "x"}),
        ("POST", "jpm", f"jobs/{job_id}/notes", "jobs/{id}/notes", {"text": ""}),
        ("PUT", "sales", "estimates/1/items", "estimates/{id}/items", {"skuId": SERVICE}),
        ("PATCH", "pricebook", "services/1", "services/{id}", {"price": 1}),
        ("POST", "crm", "customers", "customers", {"name": ""}),
        ("PATCH", "jpm", "appointments/1/reschedule", "appointments/{id}/reschedule", {}),
    ):
        response = st.call(method, module, path, json=body)
        assert response.status_code in (400, 404), response.text
        check.check(module, method, _st_spec_path(spec), response)


def test_servicetitan_responses_follow_the_spec(specs: Specs, st: StSession) -> None:
    check = Validation(specs, "servicetitan")
    inactive, merged = _reads(st, check)
    assert inactive and merged, "the pages held no inactive or no merged record"
    _writes(st, check)
    missing = st.call("GET", "jpm", "jobs/1")
    assert missing.status_code == 404
    check.check("jpm", "GET", _st_spec_path("jobs/{id}"), missing)
    bad_token = st.call("GET", "crm", "export/customers", params={"from": "not-a-token"})
    assert bad_token.status_code == 400
    check.check("crm", "GET", _st_spec_path("export/customers"), bad_token)
    check.assert_clean()
    served = {(module, method, _st_spec_path(path)) for method, module, path in served_operations()}
    assert served - check.validated == set(), "simulated routes the test did not validate"


# --- GoHighLevel ---------------------------------------------------------------------------------


class GhlSession:
    """A simulated GoHighLevel location, called in-process with its token and API version."""

    def __init__(self, seed: int) -> None:
        self.system = GoHighLevelSystem(seed=seed, size="small")
        self.client = TestClient(self.system.app)
        self.location = self.system.state.location_id
        self.headers = {
            "Authorization": f"Bearer {self.system.state.token}",
            "Version": API_VERSION,
        }

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, path, headers=self.headers, **kwargs)


@pytest.mark.parametrize("seed", SEEDS)
def test_gohighlevel_responses_follow_the_spec(specs: Specs, seed: int) -> None:
    ghl = GhlSession(seed)
    check = Validation(specs, "gohighlevel")

    def call(method: str, path: str, spec: str, status: int = 200, **kwargs: Any) -> Any:
        response = ghl.call(method, path, **kwargs)
        assert response.status_code == status, response.text
        return check.check(None, method, spec, response)

    search = {"locationId": ghl.location, "pageLimit": 20}
    first = call("POST", "/contacts/search", "/contacts/search", json=search)
    after = first["contacts"][-1]["searchAfter"]
    call("POST", "/contacts/search", "/contacts/search", json={**search, "searchAfter": after})
    listed = call("GET", "/contacts/", "/contacts/", params={"locationId": ghl.location})
    meta = listed["meta"]
    next_page = {"locationId": ghl.location, "startAfter": meta["startAfter"]}
    call(
        "GET",
        "/contacts/",
        "/contacts/",
        params={**next_page, "startAfterId": meta["startAfterId"]},
    )
    contact_id = listed["contacts"][0]["id"]
    call("GET", f"/contacts/{contact_id}", "/contacts/{contactId}")
    call("PUT", f"/contacts/{contact_id}", "/contacts/{contactId}", json={"firstName": "Rosa"})
    upsert = {"locationId": ghl.location, "phone": "+14805550142", "firstName": "Rosa"}
    call("POST", "/contacts/upsert", "/contacts/upsert", json=upsert)
    created = {"locationId": ghl.location, "email": f"new{seed}@example.com", "firstName": "New"}
    new_contact = call("POST", "/contacts/", "/contacts/", 201, json=created)["contact"]["id"]
    pipelines = call(
        "GET",
        "/opportunities/pipelines",
        "/opportunities/pipelines",
        params={"locationId": ghl.location},
    )["pipelines"]
    query = {"location_id": ghl.location, "limit": 20, "order": "added_asc"}
    found = call("GET", "/opportunities/search", "/opportunities/search", params=query)
    meta = found["meta"]
    later = {**query, "startAfter": meta["startAfter"], "startAfterId": meta["startAfterId"]}
    call("GET", "/opportunities/search", "/opportunities/search", params=later)
    opportunity_id = found["opportunities"][0]["id"]
    call("GET", f"/opportunities/{opportunity_id}", "/opportunities/{id}")
    call("PUT", f"/opportunities/{opportunity_id}", "/opportunities/{id}", json={"name": "Renamed"})
    status = {"status": "won"}
    call(
        "PUT", f"/opportunities/{opportunity_id}/status", "/opportunities/{id}/status", json=status
    )
    pipeline = pipelines[0]
    opportunity = {
        "pipelineId": pipeline["id"],
        "pipelineStageId": pipeline["stages"][0]["id"],
        "locationId": ghl.location,
        "name": "Pool build",
        "status": "open",
        "contactId": new_contact,
    }
    call("POST", "/opportunities/", "/opportunities/", 201, json=opportunity)
    # Refusals.
    call("GET", "/contacts/nope", "/contacts/{contactId}", 400)
    call("GET", "/opportunities/nope", "/opportunities/{id}", 404)
    call("POST", "/opportunities/", "/opportunities/", 422, json={"name": "x"})
    odd_cursor = {"locationId": ghl.location, "startAfter": "0.5", "startAfterId": "x"}
    call("GET", "/contacts/", "/contacts/", 422, params=odd_cursor)  # was a 500
    check.assert_clean()
    served = {(None, method, normalized(path)) for path, method, _ in GHL_ROUTES}
    assert served - check.validated == set(), "simulated routes the test did not validate"


# --- refusals: 401, 403, 404, 429 ---------------------------------------------------------------


def test_servicetitan_refusals_have_the_api_error_shape(specs: Specs) -> None:
    check = Validation(specs, "servicetitan")
    session = StSession(1)
    jobs = _st_spec_path("jobs")

    def refused(
        status: int, headers: dict[str, str], path: str = "jobs", spec: str = "jobs"
    ) -> httpx.Response:
        response = session.client.get(f"/jpm/v2/tenant/{session.tenant}/{path}", headers=headers)
        assert response.status_code == status, response.text
        body = check.check("jpm", "GET", _st_spec_path(spec), response)
        assert body["status"] == status and body["title"] and body["traceId"]
        return response

    no_token = refused(401, {"ST-App-Key": session.headers["ST-App-Key"]})
    assert no_token.headers["WWW-Authenticate"] == "Bearer"
    refused(401, {**session.headers, "Authorization": "Bearer expired"})
    refused(403, {"Authorization": session.headers["Authorization"]})
    refused(404, session.headers, "jobs/1", "jobs/{id}")
    unknown_tenant = session.client.get("/jpm/v2/tenant/1/jobs", headers=session.headers)
    assert unknown_tenant.status_code == 404
    check.check("jpm", "GET", jobs, unknown_tenant)
    session.system.state.rate_limit = 1
    session.call("GET", "jpm", "jobs")
    limited = refused(429, session.headers)
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["title"].endswith(f"in {limited.headers['Retry-After']} seconds.")
    check.assert_clean()
    session.client.close()


def test_gohighlevel_refusals_have_its_error_shape(specs: Specs) -> None:
    check = Validation(specs, "gohighlevel")
    system = GoHighLevelSystem(seed=1, size="small", burst_limit=2)
    client = TestClient(system.app)
    headers = {"Authorization": f"Bearer {system.state.token}", "Version": API_VERSION}
    path = f"/opportunities/pipelines?locationId={system.state.location_id}"

    def refused(status: int, response: httpx.Response, spec: str) -> dict[str, Any]:
        assert response.status_code == status, response.text
        body = check.check(None, "GET", spec, response)
        assert body["statusCode"] == status and body["message"] and body["error"]
        return body

    refused(401, client.get(path, headers={"Version": API_VERSION}), "/opportunities/pipelines")
    refused(404, client.get("/opportunities/missing", headers=headers), "/opportunities/{id}")
    assert client.get(path, headers=headers).status_code == 200  # the second of the burst
    limited = client.get(path, headers=headers)
    refused(429, limited, "/opportunities/pipelines")
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    check.assert_clean()
    client.close()


def test_ids_beyond_64_bits_are_not_found(specs: Specs) -> None:
    check = Validation(specs, "servicetitan")
    session = StSession(1)
    huge = str(1 << 70)
    for method, module, path, spec in (
        ("GET", "jpm", f"jobs/{huge}", "jobs/{id}"),
        ("GET", "crm", f"customers/{huge}/notes", "customers/{id}/notes"),
        ("POST", "jpm", f"jobs/{huge}/notes", "jobs/{id}/notes"),
        ("PATCH", "pricebook", f"services/{huge}", "services/{id}"),
        ("PUT", "sales", f"estimates/{huge}/sell", "estimates/{id}/sell"),
    ):
        response = session.call(method, module, path, json={"text": "x", "price": 1})
        assert response.status_code == 404, response.text
        check.check(module, method, _st_spec_path(spec), response)
    big = 1 << 70
    estimate = next(session.store.iter_by_id("estimates"))["id"]
    for method, module, path, body in (
        ("POST", "jpm", "jobs", {"customerId": big, "locationId": big, "jobTypeId": big}),
        ("POST", "crm", "customers", {"name": "A", "tagTypeIds": [big], "paymentTermId": big}),
        ("POST", "jpm", "appointments", {"jobId": big, "start": "2026-05-04T15:00:00Z"}),
        ("PUT", "sales", f"estimates/{estimate}/items", {"skuId": big, "quantity": big}),
        ("PUT", "sales", f"estimates/{estimate}/sell", {"soldBy": big}),
        ("POST", "sales", "estimates", {"jobId": big, "items": [{"skuId": big}]}),
        (
            "POST",
            "dispatch",
            "appointment-assignments/assign-technicians",
            {"jobAppointmentId": big, "technicianIds": [big]},
        ),
    ):
        response = session.call(method, module, path, json=body)
        assert response.status_code in (400, 404), response.text
    check.assert_clean()
    session.client.close()
