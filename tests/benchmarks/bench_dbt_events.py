"""How long the event models take: a full rebuild, and the incremental build after a sync.

    .venv/bin/python tests/benchmarks/bench_dbt_events.py [--size large] [--days 1]
        [--home DIR] [--seed 1] [--customers N] [--skip-full-rebuild]

Loads the simulated tenant of `--size` into a database named `bench_dbt_<size>` (on
`DATABASE_URL`'s server if set, else an embedded PostgreSQL under `--home`, kept between runs so
the slow initial load of `large` happens once), then measures, with dbt run the way the platform
runs it (`dbt_runner`, a subprocess):

- full rebuild of the event models and `workflow_events` (`--full-refresh`);
- a simulated business day (`--days`; a day is the simulator's smallest step, so this is a
  generous stand-in for the changes of one 5-minute incremental sync), synced incrementally;
- the incremental build of the event models and `workflow_events` after that sync;
- the same incremental build again with nothing new (the steady state of a quiet tick).

Each figure is the wall time of the dbt process, the summed time of the models and the time of
the `workflow_events` model itself. `--customers N` scales the `large` tenant to N customers
(everything else in proportion), for a machine without the disk (~55 GB) or the hours the full
1M-customer tenant needs. `--skip-full-rebuild` measures only the incremental builds of a
database loaded by an earlier run (pass `--days` one more than before: a fresh simulator
replays the earlier days identically, so they change nothing). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from perfect_catch.connectors.servicetitan import ServiceTitanClient
from perfect_catch.settings import load_settings
from perfect_catch.simulators.server import SimulatorServer
from perfect_catch.simulators.servicetitan import universe
from perfect_catch.warehouse import dbt_runner, migrate
from perfect_catch.warehouse.catalog import ENTITIES
from perfect_catch.warehouse.engine import create_engine
from perfect_catch.warehouse.sync import sync_entity

EVENTS = "events"


def database_url(size: str, home: Path) -> str:
    """URL of `bench_dbt_<size>`, created and migrated if it does not exist yet."""
    server_url = os.environ.get("DATABASE_URL")
    if not server_url:
        from perfect_catch.warehouse.embedded import ensure_server

        server_url = ensure_server(home).uri
    base = sa.make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"bench_dbt_{size}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        exists = conn.execute(
            sa.text("select 1 from pg_database where datname = :n"), {"n": name}
        ).first()
        if not exists:
            conn.execute(sa.text(f'create database "{name}"'))
    admin.dispose()
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def sync(engine: sa.Engine, sim: SimulatorServer, url: str) -> tuple[int, float]:
    """Incremental sync of every entity (the first one loads everything): (records, seconds)."""
    st_env = {k.lower(): v for k, v in sim.env.items() if k.startswith("ST_")}
    settings = load_settings(database_url=url, **st_env)
    tenant = sim.system("servicetitan").tenant_ids[0]
    started = time.monotonic()
    records = 0
    with ServiceTitanClient.from_settings(settings, tenant) as client:
        for spec in ENTITIES:
            result = sync_entity(engine, client, spec, tenant)
            records += result.inserted + result.updated
            print(
                f"  {spec.name:<24} {result.records:>10,} records {result.seconds:8.1f} s",
                flush=True,
            )
    return records, time.monotonic() - started


def build(label: str, url: str, full_refresh: bool) -> None:
    args = ["run", "--select", EVENTS, *(["--full-refresh"] if full_refresh else [])]
    result = dbt_runner.invoke(args, url=url).check()
    models = sum(n.seconds for n in result.nodes if n.unique_id.startswith("model."))
    events = result.node("workflow_events").seconds
    print(
        f"{label:<44} dbt {result.seconds:7.1f} s | models {models:7.1f} s"
        f" | workflow_events {events:6.1f} s",
        flush=True,
    )


def count_events(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("select count(*) from events.workflow_events")).scalar_one()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large", choices=("small", "medium", "large"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--home", type=Path, default=Path(".perfect_catch/bench"))
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--skip-full-rebuild", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("SIM_ST_RATE_LIMIT", "0")
    label = args.size
    if args.customers:
        universe.CUSTOMER_TARGET["large"] = args.customers
        args.size, label = "large", f"large_{args.customers}"

    url = database_url(label, args.home.resolve())
    engine = create_engine(url)
    with SimulatorServer(seed=args.seed, size=args.size, port=0) as sim:
        st = sim.system("servicetitan")
        print(f"initial sync ({label})", flush=True)
        records, seconds = sync(engine, sim, url)
        print(f"initial sync: {records:,} records written in {seconds:.0f} s", flush=True)
        dbt_runner.invoke(["run", "--select", f"+{EVENTS}", "--exclude", EVENTS], url=url).check()

        if not args.skip_full_rebuild:
            build("full rebuild (--full-refresh)", url, full_refresh=True)
        before = count_events(engine)
        print(f"  {before:,} events", flush=True)

        st.advance(args.days)
        records, seconds = sync(engine, sim, url)
        print(f"incremental sync of {args.days} day(s): {records:,} records in {seconds:.1f} s")
        build("incremental after the sync", url, full_refresh=False)
        print(f"  {count_events(engine) - before:,} new events", flush=True)
        build("incremental, nothing new", url, full_refresh=False)
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
