"""Fuzz every simulated ServiceTitan and GoHighLevel operation from the official specs: no 5xx.

    .venv/bin/python tests/benchmarks/fuzz_sim_spec.py [--examples 40] [--seed 1]

For each operation the simulators serve, schemathesis generates requests from the operation in
`../shared/specs` (path ids beyond 64 bits, odd query values, bodies of any shape) and sends them
to the simulator in-process, authenticated and on the simulated tenant or location, so the
generated values reach the route itself. Any 5xx, or an exception out of the app, is a failure.
Prints, per system, the operations fuzzed, the requests sent, the answers by status, and each
failing request. Not part of the test suite (`make test`): it takes minutes.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from starlette.testclient import TestClient

from perfect_catch.simulators.gohighlevel import GoHighLevelSystem
from perfect_catch.simulators.gohighlevel.routes import ROUTES as GHL_ROUTES
from perfect_catch.simulators.gohighlevel.state import API_VERSION
from perfect_catch.simulators.servicetitan import ServiceTitanSystem
from perfect_catch.simulators.servicetitan.routes import served_operations

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "specs"


def _normalized(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path).rstrip("/") or "/"


class Tally:
    def __init__(self, system: str) -> None:
        self.system = system
        self.operations = 0
        self.requests = 0
        self.statuses: Counter[int] = Counter()
        self.failures: list[str] = []

    def record(self, label: str, status: int | None, detail: str) -> None:
        self.requests += 1
        if status is None or status >= 500:
            self.statuses[status or 0] += 1
            if len(self.failures) < 50:
                self.failures.append(f"{label} -> {status}: {detail[:300]}")
        else:
            self.statuses[status] += 1

    def report(self) -> None:
        print(f"== {self.system}: {self.operations} operations, {self.requests} requests")
        print("   answers: " + ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items())))
        print(f"   5xx or exceptions: {len(self.failures)}")
        for failure in self.failures:
            print(f"   - {failure}")


def _fuzz(
    tally: Tally,
    operation: Any,
    app: Any,
    base_url: str,
    headers: dict[str, str],
    fixed: dict[str, Any],
    examples: int,
    seed: int,
) -> None:
    tally.operations += 1
    label = f"{operation.method.upper()} {operation.path}"

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        # Half the cases keep the fixed tenant or location, so the route behind the checks is
        # reached; the other half fuzz those too.
        parameters = case.path_parameters
        if parameters is not None and zlib.crc32(repr(parameters).encode()) % 2 == 0:
            for name, value in fixed.items():
                if name in case.path_parameters:
                    case.path_parameters[name] = value
        for name, value in fixed.items():
            if isinstance(case.query, dict) and name in case.query:
                case.query[name] = value
            if isinstance(case.body, dict) and name in case.body:
                case.body[name] = value
        try:
            response = case.call(base_url=base_url, headers=headers, app=app)
        except Exception as exc:  # an exception out of the app is a 500 by another name
            tally.record(label, None, f"{type(exc).__name__}: {exc}")
            return
        tally.record(label, response.status_code, f"{case.path_parameters} {response.text}")

    try:
        run()
    except Exception as exc:  # generation itself failed: say so, go on with the next one
        tally.failures.append(f"{label}: could not fuzz ({type(exc).__name__}: {exc})"[:300])


def fuzz_servicetitan(examples: int, seed: int) -> Tally:
    tally = Tally("ServiceTitan")
    system = ServiceTitanSystem(seed=seed, size="small", rate_limit=0)
    client = TestClient(system.app)
    state = system.state
    token = client.post(
        "/auth/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": state.client_id,
            "client_secret": state.client_secret,
        },
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "ST-App-Key": state.app_key}
    served = {
        (method, module, _normalized(f"/tenant/{{}}/{path}"))
        for method, module, path in served_operations()
    }
    for path in sorted((SPECS / "servicetitan").glob("*.json")):
        raw = json.loads(path.read_text())
        module = raw["servers"][0]["url"].rsplit("/", 2)[-2]
        schema = schemathesis.openapi.from_dict(raw)
        for result in schema.get_all_operations():
            operation = result.ok()
            key = (operation.method.upper(), module, _normalized(operation.path))
            if key not in served:
                continue
            _fuzz(
                tally,
                operation,
                system.app,
                f"http://testserver/{module}/v2",
                headers,
                {"tenant": state.tenant_ids[0]},
                examples,
                seed,
            )
    return tally


def fuzz_gohighlevel(examples: int, seed: int) -> Tally:
    tally = Tally("GoHighLevel")
    system = GoHighLevelSystem(seed=seed, size="small", burst_limit=10**9, daily_limit=10**9)
    headers = {"Authorization": f"Bearer {system.state.token}", "Version": API_VERSION}
    served = {(method, _normalized(path)) for path, method, _ in GHL_ROUTES}
    for name in ("contacts.json", "opportunities.json"):
        raw = json.loads((SPECS / "gohighlevel" / name).read_text())
        common = json.loads((SPECS / "gohighlevel" / "common-schemas.json").read_text())
        text = json.dumps(raw).replace("../common/common-schemas.json#", "#")
        raw = json.loads(text)
        raw.setdefault("components", {}).setdefault("schemas", {}).update(
            common["components"]["schemas"]
        )
        schema = schemathesis.openapi.from_dict(raw)
        for result in schema.get_all_operations():
            operation = result.ok()
            if (operation.method.upper(), _normalized(operation.path)) not in served:
                continue
            location = system.state.location_id
            fixed = {"locationId": location, "location_id": location}
            _fuzz(tally, operation, system.app, "http://testserver", headers, fixed, examples, seed)
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=40, help="requests per operation")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not SPECS.is_dir():
        print(f"no specs at {SPECS}", file=sys.stderr)
        return 2
    tallies = [
        fuzz_servicetitan(args.examples, args.seed),
        fuzz_gohighlevel(args.examples, args.seed),
    ]
    for tally in tallies:
        tally.report()
    return 1 if any(t.failures for t in tallies) else 0


if __name__ == "__main__":
    sys.exit(main())
