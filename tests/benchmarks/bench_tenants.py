"""Benchmark: many tenants on one machine through the queued run coordinator.

    .venv/bin/python tests/benchmarks/bench_tenants.py [--tenants 50] [--max-runs 4]
        [--per-tenant 2] [--keep]

The production instance (`docker/dagster.yaml`: QueuedRunCoordinator, per-tenant and per-API
run limits, pools set by `perfect-catch instance setup`) on the embedded PostgreSQL, the code
location served over gRPC (`dagster code-server start`) and the daemon (`dagster-daemon run`),
as compose runs them. The ServiceTitan simulator serves `--tenants` small tenants, each with its
own credentials, listed in a tenants file. The incremental ServiceTitan schedule is set to every
minute: its first tick queues one sync run per tenant (every entity), and the benchmark follows
those runs to the end.

Reports queue-to-start (queued -> started) p50/p95, the longest any tenant waited (fairness),
the runs' durations, peak PostgreSQL connections (pg_stat_activity, every 0.5 s) and the peak
resident memory of the Dagster processes (code server, daemon, run workers) and of PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import sqlalchemy as sa
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FIRST_TENANT = 3_000_001


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


class Sampler(threading.Thread):
    """Peak connections and memory, sampled every half second."""

    def __init__(self, admin_url: str, roots: list[int], postgres_pid: int) -> None:
        super().__init__(daemon=True)
        self.engine = sa.create_engine(admin_url, poolclass=sa.pool.NullPool)
        self.roots, self.postgres_pid = roots, postgres_pid
        self.peak_connections = 0
        self.peak_dagster_mb = 0.0
        self.peak_postgres_mb = 0.0
        self.stop = threading.Event()

    @staticmethod
    def _tree_rss(pid: int) -> float:
        try:
            root = psutil.Process(pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0
        total = 0
        for process in processes:
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total / 2**20

    def run(self) -> None:
        while not self.stop.wait(0.5):
            with self.engine.connect() as conn:
                count = conn.execute(sa.text("select count(*) from pg_stat_activity")).scalar()
            self.peak_connections = max(self.peak_connections, int(count or 0))
            dagster = sum(self._tree_rss(pid) for pid in self.roots)
            self.peak_dagster_mb = max(self.peak_dagster_mb, dagster)
            self.peak_postgres_mb = max(self.peak_postgres_mb, self._tree_rss(self.postgres_pid))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--max-runs", type=int, default=4, help="max_concurrent_runs")
    parser.add_argument("--per-tenant", type=int, default=2)
    parser.add_argument(
        "--minutes", type=float, default=40, help="stop and report what finished by then"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary home")
    args = parser.parse_args()

    from perfect_catch.instance import ensure_database
    from perfect_catch.simulators.server import SimulatorServer
    from perfect_catch.simulators.servicetitan import ServiceTitanSystem
    from perfect_catch.warehouse.embedded import ensure_server, stop_server

    home = Path(tempfile.mkdtemp(prefix="pc-bench-tenants-"))
    server = ensure_server(home)
    warehouse = sa.make_url(server.uri).set(drivername="postgresql+psycopg")
    warehouse_url = warehouse.render_as_string(hide_password=False)
    storage_url = ensure_database(warehouse_url, "dagster")
    dagster_home = home / "dagster"
    dagster_home.mkdir()
    config = yaml.safe_load((ROOT / "docker" / "dagster.yaml").read_text())
    config["concurrency"]["runs"]["max_concurrent_runs"] = args.max_runs
    for rule in config["concurrency"]["runs"]["tag_concurrency_limits"]:
        if rule["key"] == "perfect_catch/tenant":
            rule["limit"] = args.per_tenant
        if rule.get("value") == "servicetitan":
            rule["limit"] = args.max_runs
    (dagster_home / "dagster.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    tenants = [FIRST_TENANT + i for i in range(args.tenants)]
    started = time.monotonic()
    system = ServiceTitanSystem(seed=1, size="small", tenant_ids=tenants)
    for tenant in tenants:
        system.state.add_tenant(tenant, f"client-{tenant}", f"secret-{tenant}")
    print(f"simulator: {len(tenants)} small tenants in {time.monotonic() - started:.1f} s")
    tenants_file = home / "tenants.yaml"
    tenants_file.write_text(
        yaml.safe_dump(
            {
                "tenants": [
                    {"id": t, "client_id": f"client-{t}", "client_secret": f"secret-{t}"}
                    for t in tenants
                ]
            }
        )
    )
    processes: list[subprocess.Popen] = []
    sampler = None
    with SimulatorServer(seed=1, size="small", systems={"servicetitan": system}) as sim:
        env = {
            **os.environ,
            **sim.env,
            "ST_TENANT_IDS": "",
            "ST_CLIENT_ID": "",
            "ST_CLIENT_SECRET": "",
            "ST_TENANTS_FILE": str(tenants_file),
            "DATABASE_URL": warehouse_url,
            "DAGSTER_DATABASE_URL": sa.make_url(storage_url)
            .set(drivername="postgresql+psycopg2")
            .render_as_string(hide_password=False),
            "DAGSTER_HOME": str(dagster_home),
            "PERFECT_CATCH_HOME": str(home),
            "PERFECT_CATCH_ENV_FILE": os.devnull,
            "SCHEDULES_DEFAULT_ON": "true",
            "ST_INCREMENTAL_CRON": "* * * * *",
            # Only the ServiceTitan syncs are measured: the other background runs wait a year.
            "ST_FULL_REFRESH_CRON": "0 3 1 1 *",
            "GHL_SYNC_CRON": "0 3 1 1 *",
            "GHL_RECONCILE_CRON": "0 3 1 1 *",
            "CALLRAIL_SYNC_CRON": "0 3 1 1 *",
            "DBT_MARTS_CRON": "0 3 1 1 *",
        }
        setup = subprocess.run(
            [str(BIN / "perfect-catch"), "instance", "setup"], env=env, capture_output=True
        )
        assert setup.returncode == 0, setup.stderr.decode()[-2000:]
        os.environ.update({k: env[k] for k in ("DAGSTER_HOME", "DAGSTER_DATABASE_URL")})
        port = 4000 + os.getpid() % 1000
        workspace = dagster_home / "workspace.yaml"
        workspace.write_text(
            f"load_from:\n  - grpc_server:\n      host: 127.0.0.1\n      port: {port}\n"
            "      location_name: perfect_catch\n"
        )
        code = [str(BIN / "dagster"), "code-server", "start", "-h", "127.0.0.1", "-p", str(port)]
        code += ["-m", "perfect_catch.definitions", "--location-name", "perfect_catch"]
        daemon = [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)]
        for command in (code, daemon):
            processes.append(subprocess.Popen(command, env=env, process_group=0))
        sampler = Sampler(
            sa.make_url(warehouse_url).set(database="postgres").render_as_string(False),
            [p.pid for p in processes],
            server.pid,
        )
        sampler.start()
        try:
            signal.signal(signal.SIGTERM, _interrupt)  # stop the services on SIGTERM too
            result = follow_runs(tenants, args.minutes * 60)
        finally:
            sampler.stop.set()
            for process in processes:
                os.killpg(process.pid, signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
            stop_server(home)
            if not args.keep:
                shutil.rmtree(home, ignore_errors=True)
    report(result, sampler, args)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def follow_runs(tenants: list[int], seconds: float) -> list[tuple[str, float, float, float]]:
    """The first scheduled run of every tenant, followed to its end or for `seconds`:
    (tenant, queued, started or 0, ended or 0) as epoch seconds."""
    import dagster as dg

    wanted = {str(t) for t in tenants}
    deadline = time.monotonic() + seconds
    with dg.DagsterInstance.get() as instance:
        while True:
            records = instance.get_run_records(
                dg.RunsFilter(job_name="servicetitan_sync", tags={"sync_kind": "incremental"})
            )
            first: dict[str, dg.RunRecord] = {}
            for record in sorted(records, key=lambda r: r.create_timestamp):
                tenant = record.dagster_run.tags.get("perfect_catch/tenant")
                if tenant in wanted and tenant not in first:
                    first[tenant] = record
            done = [r for r in first.values() if r.dagster_run.is_finished]
            print(
                f"\r{len(first)} queued, {sum(1 for r in first.values() if r.start_time)} "
                f"started, {len(done)} finished",
                end="",
                flush=True,
            )
            if len(done) == len(wanted) or time.monotonic() > deadline:
                print()
                failed = [r for r in done if r.dagster_run.status != dg.DagsterRunStatus.SUCCESS]
                if failed:
                    print(f"{len(failed)} run(s) did not succeed")
                return [
                    (
                        tenant,
                        r.create_timestamp.timestamp(),
                        r.start_time or 0.0,
                        r.end_time or 0.0,
                    )
                    for tenant, r in first.items()
                ]
            time.sleep(2)


def report(runs, sampler: Sampler | None, args) -> None:
    started_runs = [r for r in runs if r[2]]
    finished = [r for r in started_runs if r[3]]
    waits = [started - queued for _, queued, started, _ in started_runs]
    durations = [ended - started for _, _, started, ended in finished]
    first = min(q for _, q, _, _ in runs)
    enqueue = max(q for _, q, _, _ in runs) - first
    span = max((e for *_, e in finished), default=first) - first
    print(
        f"tenants: {args.tenants}, max_concurrent_runs {args.max_runs}, per tenant "
        f"{args.per_tenant}; runs queued {len(runs)}, started {len(started_runs)}, finished "
        f"{len(finished)}; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"enqueueing the tick's runs took {enqueue:.0f} s ({enqueue / len(runs):.1f} s a run)")
    if waits:
        print(
            f"queue-to-start: p50 {statistics.median(waits):.1f} s, "
            f"p95 {_percentile(waits, 0.95):.1f} s, longest tenant wait {max(waits):.1f} s"
        )
    if durations:
        print(
            f"run duration: p50 {statistics.median(durations):.1f} s, "
            f"p95 {_percentile(durations, 0.95):.1f} s; {len(finished)} done {span:.0f} s "
            "after the first was queued"
        )
    if sampler is not None:
        print(
            f"peak PostgreSQL connections: {sampler.peak_connections}; peak memory: Dagster "
            f"{sampler.peak_dagster_mb:.0f} MiB, PostgreSQL {sampler.peak_postgres_mb:.0f} MiB"
        )


if __name__ == "__main__":
    main()
