"""Benchmark: supplier price refresh for the `medium` pricebook at the polite rate.

    .venv/bin/python tests/benchmarks/bench_suppliers.py [--size medium] [--rate 0.5]

What it measures, in one run on one machine, with the simulator in its own process:
- per supplier and per refresh: requests sent, logins, wall time, at SUPPLIER_REQUESTS_PER_SECOND
  (default 0.5). Refresh 1 is a first run (no session, no map yet); refresh 2 reuses the
  session and opens the product pages of mapped parts; refresh 3 follows a host-level advance
  of 7 simulated days;
- the share of materials mapped, of those a supplier carries (the simulator's truth), and
  whether each mapping is the true one;
- drifted materials found by `marts.material_cost_drift` (|difference| >= the threshold) against
  the drift computed from the simulator's own catalogs and prices on the same simulated day.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import httpx
import sqlalchemy as sa
from simulator_process import start_simulator

ANCHOR = "2025-06-02"
SEED = 1


def truth(size: str, day: int, threshold: float) -> tuple[set[int], set[tuple[int, str]]]:
    """(drifted material ids, (material id, supplier) carried) from the simulator's catalogs."""
    from perfect_catch.simulators.servicetitan.records.pricebook import material
    from perfect_catch.simulators.servicetitan.state import DEFAULT_TENANT_ID
    from perfect_catch.simulators.servicetitan.universe import Universe
    from perfect_catch.simulators.supplier_catalog import build_catalogs

    anchor = date.fromisoformat(ANCHOR)
    universe = Universe(SEED, DEFAULT_TENANT_ID, size, anchor)
    materials = [material(universe, i) for i in range(universe.counts["materials"])]
    catalogs = build_catalogs(SEED, size, anchor)
    best: dict[int, Decimal] = {}
    carried: set[tuple[int, str]] = set()
    for supplier, catalog in catalogs.items():
        for product in catalog.products:
            if product.material_index is None:
                continue
            mid = materials[product.material_index]["id"]
            carried.add((mid, supplier))
            price = Decimal(str(catalog.price(product, day)))
            best[mid] = min(best.get(mid, price), price)
    drifted = set()
    for mat in materials:
        if mat["id"] not in best:
            continue
        cost = Decimal(str(mat["cost"])).quantize(Decimal("0.01"))
        pct = ((best[mat["id"]] - cost) / cost * 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
        if abs(pct) >= Decimal(str(threshold)):
            drifted.add(mat["id"])
    return drifted, carried


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--rate", type=float, default=0.5, help="requests/s per supplier")
    parser.add_argument("--threshold", type=float, default=5.0)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="pc-bench-suppliers-"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        PERFECT_CATCH_HOME=str(work / "home"),
        PERFECT_CATCH_ENV_FILE=os.devnull,
        SIM_ANCHOR_DATE=ANCHOR,
    )
    os.environ.update(env)

    from perfect_catch.connectors.servicetitan import ServiceTitanClient
    from perfect_catch.integrations.supplier_refresh import refresh_all
    from perfect_catch.settings import load_settings
    from perfect_catch.warehouse import dbt_runner, migrate
    from perfect_catch.warehouse.catalog import get_entity
    from perfect_catch.warehouse.embedded import ensure_server, stop_server
    from perfect_catch.warehouse.engine import create_engine
    from perfect_catch.warehouse.sync import sync_entity

    server = ensure_server(work / "home")
    url = sa.make_url(server.uri).set(drivername="postgresql+psycopg")
    database_url = url.render_as_string(hide_password=False)
    engine = create_engine(database_url)
    migrate.upgrade(engine)

    sim, sim_env = start_simulator(args.size, SEED, env={**env})
    try:
        os.environ.update(sim_env)
        settings = load_settings(database_url=database_url, supplier_requests_per_second=args.rate)
        tenant = settings.st_tenant_ids[0]
        with ServiceTitanClient.from_settings(settings, tenant) as client:
            sync_entity(engine, client, get_entity("pricebook_materials"), tenant, run_id="bench")

        lines = []
        day = 0
        for number in (1, 2, 3):
            if number == 3:
                httpx.post(
                    sim_env["SIMULATOR_URL"] + "/_admin/advance", json={"days": 7}, timeout=600
                ).raise_for_status()
                day = 7
            started = time.monotonic()
            report = refresh_all(engine, settings)
            wall = time.monotonic() - started
            for run in report.runs:
                lines.append(
                    f"| {number} | {run.supplier} | {run.requests} | {run.logins} | "
                    f"{run.records} | {run.history_rows} | {'ok' if run.ok else run.error} |"
                )
            lines.append(f"| {number} | all three, side by side | | | | | {wall:.1f} s wall |")
            mapping = report.mapping
            dbt_runner.build(
                settings, "+material_cost_drift", url=database_url, target_path=work / "dbt"
            ).check()
            drifted_truth, carried = truth(args.size, day, args.threshold)
            with engine.connect() as conn:
                found = set(
                    conn.execute(
                        sa.text(
                            "select material_id from marts.material_cost_drift "
                            "where is_carried and abs(difference_pct) >= :t"
                        ),
                        {"t": args.threshold},
                    ).scalars()
                )
                mapped = set(
                    conn.execute(
                        sa.text("select material_id, vendor from pricebook.material_vendor_map")
                    ).tuples()
                )
            carried_materials = {m for m, _ in carried}
            mapped_materials = {m for m, _ in mapped}
            print(
                f"refresh {number} (day {day}): materials {mapping.materials}, "
                f"carried {len(carried_materials)}, mapped "
                f"{len(carried_materials & mapped_materials)}/{len(carried_materials)} "
                f"({len(carried_materials & mapped_materials) / len(carried_materials):.0%}); "
                f"(material, supplier) pairs true {len(mapped & carried)}/{len(carried)}, "
                f"false {len(mapped - carried)}; drifted found {len(found & drifted_truth)}/"
                f"{len(drifted_truth)}, false {len(found - drifted_truth)}, "
                f"missed {len(drifted_truth - found)}"
            )
        print("| refresh | supplier | requests | logins | offers | price changes | result |")
        print("|---|---|---|---|---|---|---|")
        print("\n".join(lines))
    finally:
        sim.terminate()
        engine.dispose()
        stop_server(work / "home")


if __name__ == "__main__":
    sys.exit(main())
