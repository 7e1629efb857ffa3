"""Benchmark: `generate_estimate` on the battery of pool and electrical job descriptions
(tests/mcp/estimate_battery.py), without a key (clause reading + PostgreSQL search) and with the
simulated Claude (structured extraction, then the same search).

    .venv/bin/python tests/benchmarks/bench_estimate_battery.py [--seed 7] [--size small]

An embedded PostgreSQL in a temporary home, migrated; the simulated tenant's pricebook synced
into it; every description of both splits drafted once per path. Reports recall (expected items
found), wrong extras per ten descriptions and the misses, per split and path, and the time per
description.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "mcp"))

from estimate_battery import HELD_OUT, TUNING, score  # noqa: E402

from perfect_catch.connectors.servicetitan import ServiceTitanClient  # noqa: E402
from perfect_catch.settings import load_settings  # noqa: E402
from perfect_catch.simulators.server import SimulatorServer  # noqa: E402
from perfect_catch.tools.context import ToolContext  # noqa: E402
from perfect_catch.tools.estimate_generation import (  # noqa: E402
    GenerateEstimateInput,
    generate_estimate,
)
from perfect_catch.warehouse import migrate  # noqa: E402
from perfect_catch.warehouse.catalog import ENTITIES  # noqa: E402
from perfect_catch.warehouse.embedded import ensure_server, stop_server  # noqa: E402
from perfect_catch.warehouse.engine import create_engine  # noqa: E402
from perfect_catch.warehouse.sync import sync_entity  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--size", default="small", choices=("small", "medium", "large"))
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="pc-estimates-"))
    try:
        server = ensure_server(home)
        url = (
            sa.make_url(server.uri)
            .set(drivername="postgresql+psycopg")
            .render_as_string(hide_password=False)
        )
        engine = create_engine(url)
        migrate.upgrade(engine)
        with SimulatorServer(seed=args.seed, size=args.size, port=0) as sim:
            env = sim.env
            common = {
                "database_url": url,
                "st_api_url": env["ST_API_URL"],
                "st_auth_url": env["ST_AUTH_URL"],
                "st_client_id": env["ST_CLIENT_ID"],
                "st_client_secret": env["ST_CLIENT_SECRET"],
                "st_app_key": env["ST_APP_KEY"],
                "st_tenant_ids": [int(t) for t in env["ST_TENANT_IDS"].split(",")],
            }
            settings = load_settings(**common, anthropic_api_key="")
            tenant = settings.st_tenant_ids[0]
            with ServiceTitanClient.from_settings(settings, tenant) as client:
                for spec in ENTITIES:
                    if spec.name.startswith("pricebook"):
                        sync_entity(engine, client, spec, tenant)
            paths = {
                "without a key": settings,
                "with simulated Claude": load_settings(
                    **common,
                    anthropic_api_key=env["ANTHROPIC_API_KEY"],
                    anthropic_base_url=env["ANTHROPIC_BASE_URL"],
                ),
            }
            print(f"{'path':<24}{'split':<10}{'recall':>8}{'extras/10':>11}{'ms/desc':>9}")
            misses = []
            for label, path_settings in paths.items():
                context = ToolContext.from_settings(path_settings, engine)

                def draft(description: str, context: ToolContext = context) -> list[str]:
                    answer = generate_estimate(
                        context, GenerateEstimateInput(description=description)
                    )
                    return [line["item"]["name"] for line in answer["lines"]]

                for split, cases in (("tuning", TUNING), ("held-out", HELD_OUT)):
                    started = time.perf_counter()
                    result = score(cases, draft)
                    per = (time.perf_counter() - started) * 1000 / len(cases)
                    print(
                        f"{label:<24}{split:<10}{result.recall:8.1%}"
                        f"{result.extras_per_ten:11.2f}{per:9.0f}",
                        flush=True,
                    )
                    misses += [(label, split, m) for m in result.misses]
                context.close()
            for label, split, (description, missing, extra) in misses:
                print(f"  {label}, {split}: {description!r} missing {missing} extra {extra}")
        engine.dispose()
        return 0
    finally:
        stop_server(home)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
