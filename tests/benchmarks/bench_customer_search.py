"""Benchmark: Claude's customer lookups at a million customers, before and after the search
columns (migration 0013), and what the columns cost a full sync.

    .venv/bin/python tests/benchmarks/bench_customer_search.py [--customers 1000000] \
        [--samples 15] [--before-samples 5] [--sync-customers 200000] [--skip-sync]

Lookups: a database at head gets `--customers` customers (each with a phone, a mobile, an
email, a location, two jobs and their appointments, an estimate, an invoice and a payment),
made in PostgreSQL with `generate_series` (`tests/warehouse/customer_rows.py`): syncing a
million customers through the simulator takes about an hour on two cores, building them takes
minutes, and the planner sees the same table sizes. `--samples` real values per kind are drawn
from the warehouse (a customer's name, the phone and email as stored, the street).

- after: `lookup_customer` by name, phone, email and address (and by a name with two letters
  swapped, which only the fallback correcting each word against the name words finds), and
  `customer_timeline` (the customer's history), called over stdio from the `mcp` SDK's client
  against `perfect-catch mcp` (a server process of its own), each call timed at the client;
- before: the customer query of the commit before (its SQL, its `integrations.e164`), run
  directly with the new indexes dropped in a transaction that is rolled back; `--before-samples`
  per kind, as a phone lookup then takes minutes. It leaves out the customer summaries
  `lookup_customer` adds, which the after figures include. `customer_timeline`'s SQL did not
  change: its before is its after.

Sync: `--sync-customers` customers of the scaled `large` simulator (in a process of its own),
customers, contacts and locations fully synced into a database at 0010 (without the columns)
and one at head, in turn, twice; records/s each.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import mcp
import sqlalchemy as sa
from bench_st_sync import run_sync
from mcp.client.stdio import StdioServerParameters
from simulator_process import start_simulator

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

TENANT = 1
KINDS = ("name", "phone", "email", "address")

#: The customer query of the commit before migration 0013, as `find_customers` built it for one
#: criterion (its phone rule is 0008's `integrations.e164`, created as `bench_base.e164`).
BEFORE_COLUMNS = """c.id, c.name, c.type, c.active, c.balance, c.do_not_service,
    concat_ws(', ', c.street, c.city, c.state, c.zip) as address, c.merged_to_id"""
BEFORE_ORDER = "order by c.active desc, c.merged_to_id is not null, c.modified_on desc limit 5"
BEFORE_CLAUSE = {
    "phone": """exists (select 1 from servicetitan.st_customer_contacts p
               where p.tenant_id = c.tenant_id and p.customer_id = c.id
                 and p.deleted_at is null
                 and right(bench_base.e164(p.value), %(digits)s) = %(phone)s)""",
    "email": """exists (select 1 from servicetitan.st_customer_contacts e
               where e.tenant_id = c.tenant_id and e.customer_id = c.id
                 and e.deleted_at is null and lower(e.value) = lower(%(email)s))""",
    "name": "c.name ilike %({key})s",
    "address": """(concat_ws(' ', c.street, c.city, c.state, c.zip) ilike %({key})s
                    or exists (select 1 from servicetitan.st_locations l
                               where l.tenant_id = c.tenant_id and l.customer_id = c.id
                                 and l.deleted_at is null
                                 and concat_ws(' ', l.street, l.city, l.state, l.zip)
                                     ilike %({key})s))""",
}


def before_query(kind: str, value: str) -> tuple[str, dict[str, Any]]:
    from perfect_catch.tools.lookup import like_pattern, normalize_phone

    params: dict[str, Any] = {"tenant": TENANT}
    clauses = ["c.tenant_id = %(tenant)s", "c.deleted_at is null"]
    if kind == "phone":
        params["phone"] = normalize_phone(value)
        params["digits"] = len(params["phone"])
        clauses.append(BEFORE_CLAUSE["phone"])
    elif kind == "email":
        params["email"] = value.strip()
        clauses.append(BEFORE_CLAUSE["email"])
    else:
        words = value.replace(",", " ").split() if kind == "address" else value.split()
        for n, word in enumerate(words):
            key = f"w{n}"
            params[key] = f"%{like_pattern(word)}%"
            clauses.append(BEFORE_CLAUSE[kind].format(key=key))
    sql = (
        f"select {BEFORE_COLUMNS} from servicetitan.st_customers c "
        f"where {' and '.join(clauses)} {BEFORE_ORDER}"
    )
    return sql, params


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def samples(url: str, count: int, seed: int, customers: int) -> dict[str, list[Any]]:
    """`count` real values per kind, from random customers of the warehouse."""
    import psycopg

    from tests.warehouse.customer_rows import FIRST_ID

    # Active customers (every twentieth generated one is not): the history tool refuses others.
    ids = [i + 1 if i % 20 == 0 else i for i in random.Random(seed).sample(range(customers), count)]
    found: dict[str, list[Any]] = {kind: [] for kind in (*KINDS, "customer_id", "misspelled")}
    with psycopg.connect(url) as conn:
        for i in ids:
            row = conn.execute(
                """select c.id, c.name, c.street,
                          (select value from servicetitan.st_customer_contacts
                           where customer_id = c.id and type = 'Phone' limit 1),
                          (select value from servicetitan.st_customer_contacts
                           where customer_id = c.id and type = 'Email' limit 1)
                   from servicetitan.st_customers c where c.tenant_id = %s and c.id = %s""",
                (TENANT, FIRST_ID + i),
            ).fetchone()
            assert row is not None
            for kind, value in zip(
                ("customer_id", "name", "address", "phone", "email"), row, strict=True
            ):
                found[kind].append(value)
    # The last name's two middle letters swapped ("Smith" -> "Smtih"): no name holds it.
    for name in found["name"]:
        first, _, last = name.partition(" ")
        middle = len(last) // 2
        last = last[: middle - 1] + last[middle] + last[middle - 1] + last[middle + 1 :]
        found["misspelled"].append(f"{first} {last}")
    return found


def time_before(url: str, values: dict[str, list[Any]], count: int) -> dict[str, list[float]]:
    """Seconds per query of the commit before, its indexes only (the new ones dropped)."""
    import psycopg

    path = ROOT / "perfect_catch/warehouse/migrations/versions/0008_phone_rule.py"
    spec = importlib.util.spec_from_file_location("phone_rule_0008", path)
    assert spec is not None and spec.loader is not None
    phone_rule = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(phone_rule)
    base_e164 = phone_rule.E164.replace("integrations.e164(", "bench_base.e164(")
    timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
    with psycopg.connect(url) as conn:
        conn.execute("create schema bench_base")
        conn.execute(base_e164)
        for (name,) in conn.execute(
            "select indexname from pg_indexes where indexname in "
            "('st_customers_name_trgm_idx', 'st_customers_address_trgm_idx', "
            "'st_locations_address_trgm_idx', 'st_customer_contacts_phone_e164_idx', "
            "'st_customer_contacts_phone_last7_idx', 'st_customer_contacts_email_lower_idx')"
        ).fetchall():
            conn.execute(f"drop index servicetitan.{name}")
        for kind in KINDS:
            for value in values[kind][:count]:
                sql, params = before_query(kind, value)
                started = time.perf_counter()
                conn.execute(sql, params).fetchall()
                timings[kind].append(time.perf_counter() - started)
                print(f"  before {kind} {value!r}: {timings[kind][-1] * 1000:,.0f} ms", flush=True)
        conn.rollback()
    return timings


async def time_after(env: dict[str, str], values: dict[str, list[Any]]) -> dict[str, list[float]]:
    """Seconds per tool call over stdio, at the client, after one warm-up call per tool."""
    server = StdioServerParameters(
        command=sys.executable, args=["-m", "perfect_catch.cli", "mcp"], env=env, cwd=str(ROOT)
    )
    calls = {kind: ("lookup_customer", kind) for kind in KINDS}
    calls["name misspelled"] = ("lookup_customer", "misspelled")
    calls["customer_history"] = ("customer_timeline", "customer_id")
    timings: dict[str, list[float]] = {kind: [] for kind in calls}
    async with mcp.Client(server) as client:
        for label, (tool, argument) in calls.items():
            warm_up = {"name" if argument == "misspelled" else argument: values[argument][-1]}
            await client.call_tool(tool, warm_up)
            for value in values[argument]:
                started = time.perf_counter()
                arguments = {"name" if argument == "misspelled" else argument: value}
                result = await client.call_tool(tool, arguments)
                timings[label].append(time.perf_counter() - started)
                assert not result.is_error, result.content[0].text
                if tool == "lookup_customer":
                    ids = [c["id"] for c in result.structured_content["customers"]]
                    index = values[argument].index(value)
                    assert values["customer_id"][index] in ids or len(ids) == 5, (label, value)
    return timings


def lookups(args: argparse.Namespace, work: Path) -> None:
    from perfect_catch.warehouse import migrate
    from perfect_catch.warehouse.embedded import ensure_server, stop_server
    from perfect_catch.warehouse.engine import create_engine
    from tests.warehouse.customer_rows import generate_customers, generate_history

    server = ensure_server(work / "home")
    try:
        url = sa.make_url(server.uri).set(drivername="postgresql+psycopg")
        engine = create_engine(url)
        migrate.upgrade(engine)
        started = time.perf_counter()
        with engine.begin() as conn:
            generate_customers(conn, TENANT, args.customers)
        print(f"{args.customers:,} customers built in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        with engine.begin() as conn:
            generate_history(conn, TENANT, args.customers)
        print(f"their history built in {time.perf_counter() - started:.0f} s")
        with engine.connect() as conn:
            sizes = conn.execute(
                sa.text(
                    "select relname, n_live_tup from pg_stat_user_tables "
                    "where schemaname = 'servicetitan' and n_live_tup > 0 order by relname"
                )
            ).all()
        print("rows: " + ", ".join(f"{name} {count:,}" for name, count in sizes))
        engine.dispose()
        values = samples(server.uri, args.samples, args.seed, args.customers)
        env = {
            "DATABASE_URL": url.render_as_string(hide_password=False),
            "ST_TENANT_IDS": str(TENANT),
            "PERFECT_CATCH_HOME": str(work / "home"),
            "PERFECT_CATCH_ENV_FILE": os.devnull,
        }
        after = anyio.run(time_after, env, values)
        before = time_before(server.uri, values, args.before_samples) if args.before_samples else {}
    finally:
        stop_server(work / "home")
    print(f"\nlookups at {args.customers:,} customers, {os.cpu_count()} cores (ms)")
    print(f"{'kind':<18}{'before p50':>12}{'before p95':>12}{'after p50':>11}{'after p95':>11}")
    for kind, times in after.items():
        b50, b95 = percentiles(before[kind]) if kind in before else (None, None)
        a50, a95 = percentiles(times)
        shown = [f"{v * 1000:>12,.0f}" if v is not None else f"{'(same)':>12}" for v in (b50, b95)]
        print(f"{kind:<18}{shown[0]}{shown[1]}{a50 * 1000:>11,.1f}{a95 * 1000:>11,.1f}")


def sync_rates(args: argparse.Namespace, work: Path) -> None:
    from perfect_catch.warehouse import migrate
    from perfect_catch.warehouse.embedded import ensure_server, stop_server
    from perfect_catch.warehouse.engine import create_engine

    server = ensure_server(work / "sync-home")
    admin = sa.create_engine(
        sa.make_url(server.uri).set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
    )
    sim, sim_env = start_simulator("large", args.seed, customers=args.sync_customers)
    entities = tuple(args.sync_entities)
    rates: dict[tuple[str, str], list[float]] = {}
    try:
        for run in range(2):
            for label, revision in (("before", "0010_owed_and_close_rate"), ("after", "head")):
                name = f"sync_{label}_{run}"
                with admin.connect() as conn:
                    conn.execute(sa.text(f"create database {name}"))
                url = (
                    sa.make_url(server.uri)
                    .set(drivername="postgresql+psycopg", database=name)
                    .render_as_string(hide_password=False)
                )
                engine = create_engine(url)
                migrate.upgrade(engine, revision)
                engine.dispose()
                env = {
                    **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
                    **sim_env,
                    "DATABASE_URL": url,
                    "PERFECT_CATCH_ENV_FILE": os.devnull,
                }
                tenant = int(sim_env["ST_TENANT_IDS"].split(",")[0])
                for entity in entities:
                    result = run_sync(env, entity, tenant, full=True)
                    rate = result["records"] / result["seconds"]
                    rates.setdefault((entity, label), []).append(rate)
                    print(
                        f"  run {run + 1} {label} {entity}: {result['records']:,} records, "
                        f"{rate:,.0f} rec/s",
                        flush=True,
                    )
                with admin.connect() as conn:
                    conn.execute(sa.text(f"drop database {name} with (force)"))
    finally:
        sim.terminate()
        sim.wait(timeout=30)
        admin.dispose()
        stop_server(work / "sync-home")
    print(f"\nfull sync of {args.sync_customers:,} customers' records (rec/s, runs 1 / 2)")
    for entity in entities:
        before, after = rates[(entity, "before")], rates[(entity, "after")]
        change = statistics.mean(after) / statistics.mean(before) - 1
        print(
            f"{entity:<18} before {' / '.join(f'{r:,.0f}' for r in before):>17}"
            f"   after {' / '.join(f'{r:,.0f}' for r in after):>17}   {change:+.1%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--before-samples", type=int, default=5)
    parser.add_argument("--sync-customers", type=int, default=200_000)
    parser.add_argument(
        "--sync-entities", nargs="+", default=["customers", "customer_contacts", "locations"]
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-sync", action="store_true")
    parser.add_argument("--skip-lookups", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pc-bench-search-"))
    os.environ.update(PERFECT_CATCH_HOME=str(work / "home"), PERFECT_CATCH_ENV_FILE=os.devnull)
    try:
        if not args.skip_lookups:
            lookups(args, work)
        if not args.skip_sync:
            sync_rates(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
