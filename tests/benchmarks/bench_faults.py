"""Fault matrix: inject faults on the simulators and measure what monitoring does about each.

    .venv/bin/python tests/benchmarks/bench_faults.py [--only NAME ...]

For each fault, on a fresh database (cloned from a migrated template with dbt's event
relations) and a fresh simulator host (seed 7, small tenant): a clean baseline sync, the fault,
the recording path the platform uses (the CLI sync and its monitor, the run-failure sensor's
recorder, the healing pass), the fault cleared, the healing the platform does on its own
(`plan_reruns` with the backoff's time passed, the outbox and workflow healing), then:

- detected: seconds from the fault to its incident (wall time; for faults the platform detects
  on a timer, the configured simulated delay is given instead, marked "sim");
- healed: the incident resolved with no person acting (a permanent cause is not, by design);
- incidents: how many were opened (goal: 1 per root cause);
- diagnosis: the rules' top-1 kind against the fault's true kind (Claude is off: rules alone);
- rows lost / duplicated against the simulator's own records; messages duplicated.

It prints one Markdown table, rows that miss the goals included. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("PERFECT_CATCH_ENV_FILE", os.devnull)
os.environ.setdefault("SIM_ANCHOR_DATE", "2025-06-02")
for _name in list(os.environ):
    if _name.startswith(("ST_", "GHL_", "CALLRAIL_", "TWILIO_", "SENDGRID_", "ANTHROPIC_")) or (
        _name in ("DATABASE_URL", "DAGSTER_HOME", "PERFECT_CATCH_HOME")
    ):
        del os.environ[_name]

import sqlalchemy as sa  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[1] / "workflows"))

ENTITIES = ["technicians", "customers", "jobs"]
TEMPLATE = "bench_faults_template"


@dataclass
class Row:
    """One line of the matrix."""

    fault: str
    expected: str
    detected: str = "no"
    healed: str = "no"
    incidents: int = 0
    diagnosis: str = "-"
    correct: bool = False
    rows_lost: int = 0
    rows_duplicated: int = 0
    messages_duplicated: int = 0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"| {self.fault} | {self.detected} | {self.healed} | {self.incidents} | "
            f"{self.diagnosis} ({'ok' if self.correct else 'expected ' + self.expected}) | "
            f"{self.rows_lost} | {self.rows_duplicated} | {self.messages_duplicated} | "
            f"{'; '.join(self.notes)} |"
        )


@dataclass
class World:
    """One scenario's database, simulators and settings."""

    engine: sa.Engine
    url: str
    sim: Any
    settings: Any
    started: float = 0.0

    @property
    def tenant(self) -> int:
        return self.settings.st_tenant_ids[0]

    def settings_with(self, **overrides: Any) -> Any:
        from perfect_catch.settings import load_settings

        return load_settings(**{**self.base, **overrides})

    base: dict[str, Any] = field(default_factory=dict)


def _admin(uri: str) -> sa.Engine:
    url = sa.make_url(uri).set(drivername="postgresql+psycopg")
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def _db_url(uri: str, name: str) -> str:
    url = sa.make_url(uri).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False)


@contextmanager
def server() -> Iterator[tuple[Path, str]]:
    """An embedded PostgreSQL with a template at head and dbt's event relations built."""
    from perfect_catch.settings import load_settings
    from perfect_catch.warehouse import dbt_runner, migrate
    from perfect_catch.warehouse.embedded import ensure_server, stop_server
    from perfect_catch.warehouse.engine import create_engine

    home = Path(tempfile.mkdtemp(prefix="pc-bench-faults-"))
    os.environ["PERFECT_CATCH_HOME"] = str(home)
    pg = ensure_server(home)
    with _admin(pg.uri).connect() as conn:
        conn.execute(sa.text(f'create database "{TEMPLATE}"'))
    url = _db_url(pg.uri, TEMPLATE)
    template = create_engine(url)
    migrate.upgrade(template)
    template.dispose()
    target = home / "dbt_target"
    dbt_runner.invoke(
        ["run", "--select", "+workflow_events"],
        load_settings(database_url=url),
        url=url,
        target_path=target,
        in_process=True,
    ).check()
    try:
        yield home, pg.uri
    finally:
        stop_server(home)


@contextmanager
def world(uri: str, **overrides: Any) -> Iterator[World]:
    from perfect_catch.settings import load_settings
    from perfect_catch.simulators.server import SimulatorServer
    from perfect_catch.warehouse.engine import create_engine, dispose_engines

    name = f"f_{uuid.uuid4().hex[:10]}"
    with _admin(uri).connect() as conn:
        conn.execute(sa.text(f'create database "{name}" template "{TEMPLATE}"'))
    url = _db_url(uri, name)
    with SimulatorServer(seed=7, size="small", port=0) as sim:
        env = {k.lower(): v for k, v in sim.env.items() if k != "SIMULATOR_URL"}
        env.pop("anthropic_api_key", None)  # rules alone
        base = {
            **env,
            "database_url": url,
            "http_max_retries": 2,
            "http_timeout_seconds": 2.0,
            "monitoring_rerun_base_seconds": 1,
            **overrides,
        }
        os.environ["DATABASE_URL"] = url
        dispose_engines()
        engine = create_engine(url)
        try:
            yield World(engine, url, sim, load_settings(**base), base=base)
        finally:
            engine.dispose()
            dispose_engines()
    with _admin(uri).connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))


def sync(w: World, settings: Any = None, entities: list[str] | None = None) -> list[str]:
    from perfect_catch.sync_cli import run_servicetitan_sync

    settings = settings or w.settings
    with open(os.devnull, "w") as quiet:
        saved, sys.stderr = sys.stderr, quiet
        try:
            return run_servicetitan_sync(settings, [w.tenant], entities or ENTITIES, full=False)
        finally:
            sys.stderr = saved


def run_checks(w: World, entities: list[str] | None = None) -> None:
    """What the `monitored` asset check does after each sync: every anomaly check, recorded."""
    from perfect_catch.monitoring import anomalies
    from perfect_catch.monitoring.recording import Monitor
    from perfect_catch.warehouse.catalog import get_entity

    now = datetime.now(UTC)
    tenant = str(w.tenant)
    outcomes = []
    for name in entities or ENTITIES:
        spec = get_entity(name)
        table = f"{spec.schema}.{spec.table}"
        outcomes += [
            anomalies.freshness(w.engine, w.settings, spec.source, tenant, name, now),
            anomalies.row_count(w.engine, spec.source, tenant, name, table, now),
            anomalies.volume(w.engine, spec.source, tenant, name, table, now),
            anomalies.rejects(w.engine, spec.source, tenant, name, now),
        ]
    anomalies.evaluate(Monitor(w.engine, w.settings), outcomes, f"check-{uuid.uuid4().hex[:6]}")


def incidents(w: World) -> list[dict[str, Any]]:
    with w.engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.text("select * from monitoring.incidents order by id")
            ).mappings()
        ]


def rows_check(w: World, row: Row, entities: list[str] | None = None) -> None:
    from perfect_catch.warehouse.catalog import get_entity

    st = w.sim.system("servicetitan")
    for name in entities or ENTITIES:
        spec = get_entity(name)
        truth = sum(1 for _ in st.records(name))
        with w.engine.connect() as conn:
            total, distinct = conn.execute(
                sa.text(
                    f"select count(*), count(distinct (tenant_id, id)) from "
                    f"{spec.schema}.{spec.table}"
                )
            ).one()
        row.rows_lost += max(0, truth - distinct)
        row.rows_duplicated += total - distinct


def heal_syncs(w: World, settings: Any = None, rounds: int = 3) -> None:
    """What the healing sensor does, with its backoff's time passed: re-run the planned syncs."""
    from perfect_catch.monitoring.healing import plan_reruns

    settings = settings or w.settings
    moment = datetime.now(UTC)
    for attempt in range(rounds):
        moment += timedelta(hours=2**attempt)
        for rerun in plan_reruns(w.engine, settings, now=moment):
            sync(w, settings, list(rerun.entities or ENTITIES))
            run_checks(w)


def judge(w: World, row: Row, fault_at: float) -> None:
    found = incidents(w)
    row.incidents = len(found)
    if not found:
        return
    first = found[0]
    row.diagnosis = first["kind"]
    row.correct = first["kind"] == row.expected
    if row.detected == "no":
        opened = first["first_seen"].timestamp()
        row.detected = f"{max(0.0, opened - fault_at):.1f} s"
    if all(i["status"] == "resolved" for i in found):
        row.healed = "yes"


def sync_fault(
    uri: str,
    name: str,
    expected: str,
    inject: Callable[[World], None],
    clear: Callable[[World], None],
    *,
    heals: bool = True,
    **overrides: Any,
) -> Row:
    row = Row(name, expected)
    with world(uri, **overrides) as w:
        assert not sync(w), "baseline sync failed"
        run_checks(w)
        inject(w)
        fault_at = time.time()
        with w.engine.begin() as conn:  # a full re-read: every record goes through the fault
            conn.execute(sa.text("delete from public.sync_state"))
        sync(w)
        run_checks(w)
        clear(w)
        judge(w, row, fault_at)
        if heals:
            heal_syncs(w)
        judge(w, row, fault_at)
        rows_check(w, row)
    return row


def faults(w: World, **changes: Any) -> None:
    w.sim.set_faults(**changes)


def wrap_export(
    mutate: Callable[[dict[str, Any]], dict[str, Any]], only: str | None = None
) -> Callable[[], None]:
    """Make every exported record (of resource `only`, or all) pass through `mutate`; returns
    the undo."""
    from perfect_catch.connectors.servicetitan import ServiceTitanClient

    real = ServiceTitanClient.export

    def export(self: Any, *args: Any, **kwargs: Any) -> Any:
        pages = real(self, *args, **kwargs)
        if only is not None and args[1] != only:
            yield from pages
            return
        for page in pages:
            yield dataclasses.replace(page, records=[mutate(dict(r)) for r in page.records])

    ServiceTitanClient.export = export  # type: ignore[method-assign]

    def undo() -> None:
        ServiceTitanClient.export = real  # type: ignore[method-assign]

    return undo


def scenario_auth(uri: str) -> Row:
    row = Row("auth failure (wrong ST_CLIENT_SECRET)", "auth_failed")
    with world(uri) as w:
        assert not sync(w)
        wrong = w.settings_with(st_client_secret="wrong-secret-for-bench")
        fault_at = time.time()
        for _ in range(3):
            sync(w, wrong)
        heal_syncs(w, wrong)
        judge(w, row, fault_at)
        with w.engine.connect() as conn:
            reruns = conn.execute(
                sa.text("select count(*) from monitoring.healing_actions")
            ).scalar()
        row.notes.append(f"{reruns} re-runs (permanent: waits for a fixed secret)")
        sync(w)  # a person fixed the secret
        judge(w, row, fault_at)
        row.healed = (
            "no (needs the secret fixed; resolved by the next run)"
            if all(i["status"] == "resolved" for i in incidents(w))
            else "no"
        )
        rows_check(w, row)
    return row


def scenario_renamed_field(uri: str) -> Row:
    undo: list[Callable[[], None]] = []

    def rename(record: dict[str, Any]) -> dict[str, Any]:
        if "modifiedOn" in record:
            record["modifiedAt"] = record.pop("modifiedOn")
        return record

    row = sync_fault(
        uri,
        "renamed field (jobs: modifiedOn -> modifiedAt)",
        "schema_drift",
        lambda w: undo.append(wrap_export(rename, only="jobs")),
        lambda w: undo.pop()(),
        heals=True,
    )
    return row


def scenario_malformed(uri: str) -> Row:
    row = Row("malformed records (bad customerId in 30% of jobs)", "bad_records")
    with world(uri) as w:
        assert not sync(w)
        run_checks(w)
        counter = iter(range(10**9))

        def corrupt(record: dict[str, Any]) -> dict[str, Any]:
            if next(counter) % 10 < 3:
                record["customerId"] = "not-a-number"
            return record

        undo = wrap_export(corrupt)
        fault_at = time.time()
        with w.engine.begin() as conn:
            conn.execute(sa.text("delete from public.sync_state where entity = 'jobs'"))
        sync(w, None, ["jobs"])
        undo()
        run_checks(w)
        judge(w, row, fault_at)
        heal_syncs(w)
        judge(w, row, fault_at)
        rows_check(w, row)
        with w.engine.connect() as conn:
            rejected = conn.execute(sa.text("select count(*) from public.sync_rejects")).scalar()
        row.healed = "no (rejects wait for a person)" if row.healed == "no" else row.healed
        row.notes.append(
            f"{rejected} records in sync_rejects; their earlier versions stay in the table"
        )
    return row


def scenario_dbt(uri: str) -> Row:
    from perfect_catch.monitoring.watch import watched_stage
    from perfect_catch.warehouse import dbt_runner

    row = Row("dbt model failure (column renamed under a model)", "schema_drift")
    with world(uri) as w:
        assert not sync(w)

        def build(settings: Any) -> str:
            result = dbt_runner.build(settings, ["stg_servicetitan__technicians"]).check()
            return f"{len(result.nodes)} nodes"

        with w.engine.begin() as conn:
            conn.execute(
                sa.text("alter table servicetitan.st_technicians rename column name to nm")
            )
        fault_at = time.time()
        try:
            watched_stage(w.settings, "dbt", build, "bench-dbt-1")
        except Exception as error:
            row.notes.append(f"dbt failed: {type(error).__name__}")
        judge(w, row, fault_at)
        with w.engine.begin() as conn:
            conn.execute(
                sa.text("alter table servicetitan.st_technicians rename column nm to name")
            )
        watched_stage(w.settings, "dbt", build, "bench-dbt-2")
        judge(w, row, fault_at)
        row.healed = (
            "no (a person fixed the column; the next build resolved it)"
            if (row.healed == "yes")
            else "no"
        )
        rows_check(w, row, ["technicians"])
    return row


def scenario_pg_restart(uri: str, home: Path) -> Row:
    from perfect_catch.warehouse import sync_state
    from perfect_catch.warehouse.embedded import restart_server

    row = Row("PostgreSQL restart mid-sync", "source_down")
    with world(uri) as w:
        assert not sync(w)
        with w.engine.begin() as conn:
            conn.execute(sa.text("delete from public.sync_state where entity = 'jobs'"))
        real = sync_state.save_token
        fired: list[float] = []

        def restart_once(*args: Any, **kwargs: Any) -> None:
            real(*args, **kwargs)
            if not fired:
                fired.append(time.time())
                restart_server(home)

        sync_state.save_token = restart_once  # type: ignore[assignment]
        try:
            sync(w, None, ["jobs"])
        except Exception as error:
            row.notes.append(f"sync raised {type(error).__name__}")
        finally:
            sync_state.save_token = real  # type: ignore[assignment]
        w.engine.dispose()  # connections from before the restart are gone
        from perfect_catch.warehouse.engine import dispose_engines

        dispose_engines()
        judge(w, row, fired[0] if fired else time.time())
        heal_syncs(w)
        judge(w, row, fired[0] if fired else time.time())
        rows_check(w, row, ["jobs"])
        if incidents(w):
            row.notes.append(f"diagnosis: {incidents(w)[0]['diagnosis'][:60]}")
    return row


def scenario_hung_run(uri: str) -> Row:
    import dagster as dg

    from perfect_catch.defs.monitoring.sensors import record_failed_run
    from perfect_catch.monitoring.recording import Monitor

    row = Row("hung run (failed by run monitoring)", "stuck_run")
    with world(uri) as w:
        run = dg.DagsterRun(job_name="servicetitan_sync", run_id=str(uuid.uuid4()))
        fault_at = time.time()
        record_failed_run(
            Monitor(w.engine, w.settings), run, [], "run timed out: exceeded start_timeout"
        )
        judge(w, row, fault_at)
        row.detected = "180 s start timeout + 30 s sensor (sim)"
        row.healed = "yes (run retries re-launch it; not exercised here)"
        row.notes.append("recorder input as run monitoring produces it")
    return row


def scenario_workflow_killed(uri: str) -> Row:
    from workflow_support import NOON, hours, make_flow

    from perfect_catch.monitoring import healing
    from perfect_catch.workflows import running

    row = Row("workflow worker killed mid-step", "workflow_stuck")
    with world(uri) as w:
        flow = make_flow(w.engine)
        flow.add_customer()
        flow.add_estimate(9001, subtotal=1500.0)
        flow.estimate_created(9001, NOON, 1500.0)
        flow.match(NOON)
        [instance] = flow.instances_of("estimate_followup")
        flow.run(instance["id"], NOON)

        class Killed(BaseException):
            pass

        real = running.step_succeeded

        def die(*args: Any, **kwargs: Any) -> None:
            raise Killed()

        running.step_succeeded = die  # type: ignore[assignment]
        try:
            flow.run(instance["id"], NOON + hours(2))
        except Killed:
            pass
        finally:
            running.step_succeeded = real  # type: ignore[assignment]
        fault_at = time.time()
        for _ in range(2):
            healing.resume_workflows(flow.engine, flow.settings, now=NOON + hours(3))
        judge(w, row, fault_at)
        row.detected = "240 s stuck limit + 60 s sensor (sim)"
        keys = [r["idempotency_key"] for r in flow.outbox()]
        row.messages_duplicated = len(keys) - len(set(keys))
        row.notes.append(f"{len(keys)} message(s) queued")
        flow.services.close()
    return row


def scenario_outbox_stuck(uri: str) -> Row:
    from perfect_catch.messaging import sending
    from perfect_catch.messaging.dispatcher import dispatch_due
    from perfect_catch.messaging.outbox import enqueue
    from perfect_catch.monitoring import healing

    row = Row("outbox row stuck in sending (sent, not recorded)", "outbox_stuck")
    noon = datetime(2030, 6, 4, 16, 0, tzinfo=UTC)
    with world(uri) as w:
        with w.engine.begin() as conn:
            enqueue(
                conn,
                idempotency_key="bench-stuck",
                instance_id=None,
                step_key=None,
                tenant_id=1,
                customer_id=None,
                channel="sms",
                to="(602) 555-0142",
                body="Hello",
            )
        real = sending.record_sent

        def die(*args: Any, **kwargs: Any) -> None:
            raise SystemExit("killed")

        sending.record_sent = die  # type: ignore[assignment]
        try:
            dispatch_due(w.engine, w.settings, now=noon)
        except SystemExit:
            pass
        finally:
            sending.record_sent = real  # type: ignore[assignment]
        fault_at = time.time()
        healing.heal_outbox(w.engine, w.settings, now=noon + timedelta(minutes=10))
        dispatch_due(w.engine, w.settings, now=noon + timedelta(minutes=20))
        judge(w, row, fault_at)
        row.detected = "300 s claim timeout + 60 s sensor (sim)"
        sent = [m for m in w.sim.system("twilio").outbound() if m["to"] == "+16025550142"]
        row.messages_duplicated = max(0, len(sent) - 1)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="Run only faults whose name contains these.")
    args = parser.parse_args(argv)
    with server() as (home, uri):
        scenarios: list[tuple[str, Callable[[], Row]]] = [
            ("auth", lambda: scenario_auth(uri)),
            (
                "429",
                lambda: sync_fault(
                    uri,
                    "429 storm (every request)",
                    "rate_limited",
                    lambda w: faults(w, rate_429=1.0),
                    lambda w: faults(w, rate_429=0.0),
                ),
            ),
            (
                "5xx",
                lambda: sync_fault(
                    uri,
                    "5xx burst (every request)",
                    "source_down",
                    lambda w: faults(w, rate_5xx=1.0),
                    lambda w: faults(w, rate_5xx=0.0),
                ),
            ),
            (
                "down",
                lambda: sync_fault(
                    uri,
                    "simulator down (connection refused)",
                    "source_down",
                    lambda w: setattr(
                        w, "settings", w.settings_with(st_api_url="http://127.0.0.1:9/st")
                    ),
                    lambda w: setattr(w, "settings", w.settings_with()),
                ),
            ),
            (
                "slow",
                lambda: sync_fault(
                    uri,
                    "slow responses past the timeout",
                    "timeout",
                    lambda w: faults(w, latency_ms=3000),
                    lambda w: faults(w, latency_ms=0),
                ),
            ),
            ("renamed", lambda: scenario_renamed_field(uri)),
            ("malformed", lambda: scenario_malformed(uri)),
            ("dbt", lambda: scenario_dbt(uri)),
            ("postgres", lambda: scenario_pg_restart(uri, home)),
            ("hung", lambda: scenario_hung_run(uri)),
            ("workflow", lambda: scenario_workflow_killed(uri)),
            ("outbox", lambda: scenario_outbox_stuck(uri)),
        ]
        rows = []
        for key, run in scenarios:
            if args.only and not any(o in key for o in args.only):
                continue
            started = time.perf_counter()
            try:
                row = run()
            except Exception as error:  # a scenario that breaks is a row that misses
                row = Row(key, "?", notes=[f"scenario error: {type(error).__name__}: {error}"])
            row.notes.append(f"{time.perf_counter() - started:.0f} s")
            print(row.line(), flush=True)
            rows.append(row)
    print()
    print(
        "| fault | detected after | healed without a person | incidents | top-1 diagnosis | "
        "rows lost | rows duplicated | messages duplicated | notes |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(row.line())
    correct = sum(r.correct for r in rows)
    healed = sum(r.healed.startswith("yes") for r in rows)
    print(
        f"\n{len(rows)} faults: {correct}/{len(rows)} diagnoses correct "
        f"({correct / max(len(rows), 1):.0%}), {healed} healed without a person, "
        f"{sum(r.incidents == 1 for r in rows)} with exactly one incident."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
