"""How long the event models take: a full rebuild, and the incremental build after a sync.

    .venv/bin/python tests/benchmarks/bench_dbt_events.py [--size large] [--days 1]
        [--home DIR] [--seed 1] [--customers N] [--skip-full-rebuild] [--repeat N]

Loads the simulated tenant of `--size` into a database named `bench_dbt_<size>` (on
`DATABASE_URL`'s server if set, else an embedded PostgreSQL under `--home`, kept between runs so
the slow initial load happens once). Only the entities the event models read are loaded: the
ServiceTitan tables in the dbt lineage of `workflow_events` (read from the manifest), so line
items, installed equipment, employees and the pricebook, which no event reads, cost neither
time nor disk. Then it measures, with dbt run the way the platform runs it (`dbt_runner`, a
`dbt` subprocess):

- the full rebuild of the event models and `workflow_events` (`--full-refresh`); on a database
  that has no events yet this is the initial build, and it is always done then;
- a `VACUUM (ANALYZE)` of the tables, as autovacuum leaves them a while after a bulk load;
- a simulated business day (`--days`; a day is the simulator's smallest step, so this is a
  generous stand-in for the changes of one 5-minute incremental sync), synced incrementally;
- the incremental build of the event models and `workflow_events` after that sync;
- the same incremental build again with nothing new (the steady state of a quiet tick),
  `--repeat` times.

Each build prints the wall time of the dbt process (interpreter start, project load, connection
and models), the summed time of the models (`run_results.json`; two threads, so more than their
share of the wall), the time of the `workflow_events` model alone, and the events it emitted.
After the load it prints the size of the loaded tables and of the events
(`pg_total_relation_size`), from which a larger tenant's disk can be estimated.

The simulator runs in a process of its own (as in production, the API is elsewhere).
`--customers N` scales the `large` tenant to N customers (everything else in proportion). The
database grows with it: the full 1M tenant (`--customers 1000000`, 15.7 million records, 10.3
million events) took 35 GB (16 GB of loaded tables, 19 GB of events), an initial sync of 34
minutes and an initial build of 13 minutes on a 2-core machine. A full
rebuild over events that already exist writes each model anew before dropping the old one,
which needs room for a second `workflow_events` (about a tenth of the database) while it runs.
`--skip-full-rebuild` skips the rebuild on a database whose events an earlier run built, to
measure only the incremental builds (pass `--days` one more than before: a fresh simulator
replays the earlier days identically, so they change nothing). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import httpx
import sqlalchemy as sa
from simulator_process import start_simulator

from perfect_catch.connectors.servicetitan import ServiceTitanClient
from perfect_catch.settings import load_settings
from perfect_catch.warehouse import dbt_runner, migrate
from perfect_catch.warehouse.catalog import ENTITIES, EntitySpec
from perfect_catch.warehouse.engine import create_engine
from perfect_catch.warehouse.sync import sync_entity

EVENTS = "events"
WORKFLOW_EVENTS = "model.perfect_catch.workflow_events"


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


def event_entities() -> list[EntitySpec]:
    """The entities whose tables the events read: the sources upstream of `workflow_events` in
    the manifest, with the child tables (line items) no event reads left out."""
    manifest = json.loads(dbt_runner.ensure_manifest().read_text())
    nodes = {**manifest["nodes"], **manifest["sources"]}
    tables: set[str] = set()
    pending, seen = [WORKFLOW_EVENTS], set()
    while pending:
        unique_id = pending.pop()
        if unique_id in seen:
            continue
        seen.add(unique_id)
        node = nodes[unique_id]
        if node["resource_type"] == "source":
            tables.add(f"{node['schema']}.{node['name']}")
        pending += node.get("depends_on", {}).get("nodes", [])
    return [
        dataclasses.replace(spec, children=tuple(c for c in spec.children if c.qualified in tables))
        for spec in ENTITIES
        if spec.qualified in tables
    ]


def sync(
    engine: sa.Engine, sim_env: dict[str, str], url: str, entities: list[EntitySpec]
) -> tuple[int, float]:
    """Incremental sync of `entities` (the first one loads everything): (records, seconds)."""
    st_env = {k.lower(): v for k, v in sim_env.items() if k.startswith("ST_")}
    settings = load_settings(database_url=url, **st_env)
    tenant = int(sim_env["ST_TENANT_IDS"].split(",")[0])
    started = time.monotonic()
    records = 0
    with ServiceTitanClient.from_settings(settings, tenant) as client:
        for spec in entities:
            result = sync_entity(engine, client, spec, tenant)
            records += result.inserted + result.updated
            print(
                f"  {spec.name:<24} {result.records:>10,} records {result.seconds:8.1f} s",
                flush=True,
            )
    return records, time.monotonic() - started


def count_events(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        exists = conn.execute(sa.text("select to_regclass('events.workflow_events')")).scalar()
        if exists is None:
            return 0
        return conn.execute(sa.text("select count(*) from events.workflow_events")).scalar_one()


def build(label: str, url: str, engine: sa.Engine, full_refresh: bool) -> None:
    before = count_events(engine)
    args = ["run", "--select", EVENTS, *(["--full-refresh"] if full_refresh else [])]
    result = dbt_runner.invoke(args, load_settings(database_url=url), url=url).check()
    models = sum(n.seconds for n in result.nodes if n.unique_id.startswith("model."))
    events = result.node("workflow_events").seconds
    emitted = count_events(engine) - before if not full_refresh else count_events(engine)
    print(
        f"{label:<32} dbt {result.seconds:7.1f} s | models {models:7.1f} s"
        f" | workflow_events {events:6.1f} s | {emitted:>10,} events",
        flush=True,
    )


def vacuum_analyze(engine: sa.Engine) -> None:
    """VACUUM (ANALYZE) the loaded and event tables: the state autovacuum reaches a while after
    a bulk load or a full rebuild (statistics for the planner, a visibility map for index-only
    scans), so the incremental builds are measured in the steady state and not beside an
    autovacuum of millions of fresh rows."""
    started = time.monotonic()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        tables = conn.execute(
            sa.text(
                "select format('%I.%I', n.nspname, c.relname) from pg_class c "
                "join pg_namespace n on n.oid = c.relnamespace "
                "where c.relkind = 'r' and n.nspname in ('servicetitan', 'events')"
            )
        ).scalars()
        for table in list(tables):
            conn.execute(sa.text(f"vacuum (analyze) {table}"))
    print(f"vacuum (analyze) of the tables: {time.monotonic() - started:.0f} s", flush=True)


def print_sizes(engine: sa.Engine) -> None:
    """Disk of the loaded raw tables and of the events, indexes and TOAST included."""
    query = sa.text(
        "select n.nspname, c.relname, pg_total_relation_size(c.oid) "
        "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where c.relkind = 'r' and n.nspname in ('servicetitan', 'pricebook', 'events') "
        "order by 3 desc"
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        database = conn.execute(sa.text("select pg_database_size(current_database())")).scalar()
    totals: dict[str, int] = {}
    for schema, table, size in rows:
        group = "events" if schema == "events" else "raw"
        totals[group] = totals.get(group, 0) + size
        if size >= 1 << 20:
            print(f"  {schema + '.' + table:<44} {size / 2**30:8,.2f} GB")
    for group, size in totals.items():
        print(f"  {group + ' tables, total':<44} {size / 2**30:8,.2f} GB")
    print(f"  {'database':<44} {database / 2**30:8,.2f} GB", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large", choices=("small", "medium", "large"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--home", type=Path, default=Path(".perfect_catch/bench"))
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--skip-full-rebuild", action="store_true")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    os.environ.setdefault("SIM_ST_RATE_LIMIT", "0")
    label = args.size
    if args.customers:
        args.size, label = "large", f"large_{args.customers}"

    entities = event_entities()
    url = database_url(label, args.home.resolve())
    engine = create_engine(url)
    sim, sim_env = start_simulator(args.size, args.seed, customers=args.customers)
    try:
        print(f"initial sync ({label}): {', '.join(spec.name for spec in entities)}", flush=True)
        records, seconds = sync(engine, sim_env, url, entities)
        print(f"initial sync: {records:,} records written in {seconds:.0f} s", flush=True)
        dbt_runner.invoke(
            ["run", "--select", f"+{EVENTS}", "--exclude", EVENTS],
            load_settings(database_url=url),
            url=url,
        ).check()

        if not args.skip_full_rebuild or count_events(engine) == 0:
            build("full rebuild (--full-refresh)", url, engine, full_refresh=True)
        vacuum_analyze(engine)
        print_sizes(engine)

        httpx.post(
            f"{sim_env['SIMULATOR_URL']}/servicetitan/_admin/advance",
            json={"days": args.days},
            timeout=600,
        ).raise_for_status()
        records, seconds = sync(engine, sim_env, url, entities)
        print(f"incremental sync of {args.days} day(s): {records:,} records in {seconds:.1f} s")
        build("incremental after the sync", url, engine, full_refresh=False)
        for _ in range(args.repeat):
            build("incremental, nothing new", url, engine, full_refresh=False)
    finally:
        sim.terminate()
        sim.wait()
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
