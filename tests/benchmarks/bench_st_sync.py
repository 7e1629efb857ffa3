"""Benchmark: full ServiceTitan sync of a large tenant over HTTP, beside a plain COPY ceiling.

    .venv/bin/python tests/benchmarks/bench_st_sync.py [--size large] [--entities customers jobs]

What it measures, in one run on one machine:
- records/s end to end (simulator over HTTP → client → loader → PostgreSQL) of a full sync of
  each entity, run in a child process whose peak RSS is reported;
- the ceiling: a plain COPY of the same rows (every column of the synced table as the sync
  left it: typed columns, raw and bookkeeping) into an empty table created
  `(LIKE <target> INCLUDING ALL)` (same columns, defaults, indexes and constraints), on the same
  server, in the same run. It is one COPY in one transaction of rows already in PostgreSQL's
  text format: no API, no JSON, no validation, no typed-column derivation, no upsert, no
  per-page commits;
- an incremental sync of 1,000 changed customers into the full customers table.
The simulator runs in its own process (as in production, the API is elsewhere).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import psycopg
import sqlalchemy as sa
from simulator_process import start_simulator

SYNC_CHILD = """
import json, resource, sys, time
from perfect_catch.connectors.servicetitan import ServiceTitanClient
from perfect_catch.settings import load_settings
from perfect_catch.warehouse.catalog import get_entity
from perfect_catch.warehouse.engine import get_engine
from perfect_catch.warehouse.sync import sync_entity

entity, tenant, full = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "full"
settings = load_settings()
with ServiceTitanClient.from_settings(settings, tenant) as client:
    result = sync_entity(get_engine(settings), client, get_entity(entity), tenant, full=full)
out = result.metadata()
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def run_sync(env: dict[str, str], entity: str, tenant: int, full: bool) -> dict:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", SYNC_CHILD, entity, str(tenant), "full" if full else "inc"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = time.monotonic() - started
    return result


def copy_ceiling(url: str, table: str, work: Path) -> tuple[int, float]:
    """Time a plain COPY of the rows the sync wrote into an empty copy of its target table.

    Every column of `table` is dumped (COPY text format) to a file first, then loaded with one
    COPY into `bench_ceiling`, created `(LIKE table INCLUDING ALL)`: the same columns, defaults,
    indexes and constraints as the sync's target, so the same index maintenance and row width.
    Only the load is timed (plus its commit).
    """
    dump = work / f"{table.replace('.', '_')}.copy"
    with psycopg.connect(url) as conn:
        with (
            dump.open("wb") as out,
            conn.cursor().copy(f"copy (select * from {table}) to stdout") as copy,
        ):
            for chunk in copy:
                out.write(chunk)
        conn.execute(f"create table public.bench_ceiling (like {table} including all)")
        conn.commit()
        started = time.monotonic()
        with (
            dump.open("rb") as src,
            conn.cursor().copy("copy public.bench_ceiling from stdin") as copy,
        ):
            while chunk := src.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        seconds = time.monotonic() - started
        rows = conn.execute("select count(*) from public.bench_ceiling").fetchone()[0]
        conn.execute("drop table public.bench_ceiling")
        conn.commit()
    dump.unlink()
    return rows, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large", choices=["small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--entities", nargs="+", default=["customers", "jobs"])
    parser.add_argument("--changed", type=int, default=1000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="pc-bench-"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(PERFECT_CATCH_HOME=str(work / "home"), PERFECT_CATCH_ENV_FILE=os.devnull)
    os.environ.update(env)

    from perfect_catch.warehouse import migrate
    from perfect_catch.warehouse.embedded import ensure_server, stop_server
    from perfect_catch.warehouse.engine import create_engine

    server = ensure_server(work / "home")
    url = sa.make_url(server.uri).set(drivername="postgresql+psycopg")
    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    env["DATABASE_URL"] = url.render_as_string(hide_password=False)
    plain_url = server.uri

    sim, sim_env = start_simulator(args.size, args.seed)
    env.update(sim_env)
    tenant = int(sim_env["ST_TENANT_IDS"].split(",")[0])
    rows = []
    try:
        for entity in args.entities:
            result = run_sync(env, entity, tenant, full=True)
            from perfect_catch.warehouse.catalog import get_entity

            spec = get_entity(entity)
            ceiling_rows, ceiling_seconds = copy_ceiling(
                plain_url, f"{spec.schema}.{spec.table}", work
            )
            rate = result["records"] / result["seconds"]
            ceiling = ceiling_rows / ceiling_seconds
            rows.append(
                (
                    entity,
                    result["records"],
                    result["seconds"],
                    rate,
                    ceiling,
                    rate / ceiling,
                    result["peak_rss_mb"],
                )
            )
        sim_rss = psutil.Process(sim.pid).memory_info().rss / 2**20

        incremental = None
        if "customers" in args.entities:
            count = rows[args.entities.index("customers")][1]
            ids = sorted(random.Random(args.seed).sample(range(count), args.changed))
            first_id = _first_id(plain_url, tenant)
            httpx.post(
                sim_env["ST_API_URL"] + "/_admin/touch",
                json={
                    "entity": "customers",
                    "ids": [first_id + i for i in ids],
                    "changes": {"doNotMail": True},
                },
                timeout=120,
            ).raise_for_status()
            incremental = run_sync(env, "customers", tenant, full=False)
    finally:
        sim.terminate()
        sim.wait(timeout=30)
        stop_server(work / "home")
        shutil.rmtree(work, ignore_errors=True)  # a large tenant leaves gigabytes behind

    print(f"\nServiceTitan full sync, size={args.size}, {os.cpu_count()} cores")
    print(
        f"{'entity':<12}{'records':>11}{'seconds':>9}{'rec/s':>9}{'COPY rec/s':>12}"
        f"{'share':>7}{'peak RSS MB':>13}"
    )
    for entity, count, seconds, rate, ceiling, share, rss in rows:
        print(
            f"{entity:<12}{count:>11,}{seconds:>9.1f}{rate:>9,.0f}{ceiling:>12,.0f}"
            f"{share:>7.0%}{rss:>13.0f}"
        )
    print(f"simulator RSS after the feeds: {sim_rss:.0f} MB")
    if incremental is not None:
        print(
            f"incremental: {incremental['records']:,} changed records read, "
            f"{incremental['updated']:,} updated in {incremental['seconds']:.2f} s "
            f"(child process wall {incremental['wall_seconds']:.2f} s)"
        )
    own_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"benchmark process peak RSS: {own_rss:.0f} MB")


def _first_id(url: str, tenant: int) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select min(id) from servicetitan.st_customers where tenant_id = %s", (tenant,)
        ).fetchone()
    return int(row[0])


if __name__ == "__main__":
    main()
