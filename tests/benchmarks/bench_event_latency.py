"""Benchmark: from a change in ServiceTitan to the SMS accepted by Twilio, with the daemon running.

    .venv/bin/python tests/benchmarks/bench_event_latency.py [--changes 20] [--size small]
        [--sync-interval 30] [--gap 8 20] [--seed 1] [--keep]
        [--missed-calls 0] [--callrail-interval 20]

The platform runs as in production, every piece in its own process: the simulators
(`perfect-catch simulate`, anchored today), a first load (`perfect-catch run-once`), then the
Dagster daemon (`dagster-daemon run`) with every schedule and sensor on and the fast lane of the
event-raising entities every `--sync-interval` seconds (`ST_EVENT_SYNC_INTERVAL_SECONDS`).

Each change books a job with an appointment for tomorrow for a different customer who can be
texted, through the ServiceTitan API (`POST jpm/v2/tenant/{t}/jobs`), at a random gap after the
previous one (`--gap`), so the changes land at every phase of the sensors' ticks. The latency of a
change runs from the API's answer to the moment the Twilio simulator accepted the appointment
confirmation (`date_created` of the message); the stages in between are read from the warehouse:
when the appointment row was synced, the `appointment_created` event emitted, the workflow
instance created and the outbox row written. Quiet hours are switched off: they defer a text on
purpose, which is not latency. Reports the median and the worst of the changes.

With `--missed-calls N`, after the changes N missed calls from new numbers reach the CallRail
simulator (`POST /callrail/_admin/calls`, a call that just ended) at the same random gaps, with
the CallRail fast lane every `--callrail-interval` seconds
(`CALLRAIL_EVENT_SYNC_INTERVAL_SECONDS`); the latency of a missed call runs from the call's end
to the moment Twilio accepted the `missed_call_text_back` text, with the stages synced (call
stored), emitted (`call_missed`), instance and queued.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import sqlalchemy as sa
from simulator_process import start_simulator

from perfect_catch.messaging.consent import suppression_reason

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@dataclass
class Change:
    customer_id: int
    phone: str
    booked_at: datetime
    job_id: int = 0
    appointment_id: int = 0
    call_id: str = ""
    stages: dict[str, datetime] = field(default_factory=dict)

    def seconds(self, stage: str) -> float | None:
        moment = self.stages.get(stage)
        return None if moment is None else (moment - self.booked_at).total_seconds()


def texting_customers(engine: sa.Engine, tenant: int, count: int, seed: int) -> list[tuple]:
    """Active customers with a textable phone and a location, none sharing a phone."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                """
                select distinct on (c.phone) c.customer_id, c.phone, l.location_id
                from marts.customers c
                join staging.stg_servicetitan__locations l
                    on l.tenant_id = c.tenant_id and l.customer_id = c.customer_id
                where c.tenant_id = :t and c.is_active and not c.is_merged
                    and c.phone is not null and not c.do_not_text
                    and l.is_active
                    and not exists (
                        select 1 from automation.messaging_opt_outs o
                        where o.channel = 'sms' and o.address = c.phone and o.opted_out)
                    and not exists (
                        select 1 from automation.outbox b
                        where b.tenant_id = c.tenant_id and b.customer_id = c.customer_id)
                order by c.phone, c.customer_id
                """
            ),
            {"t": tenant},
        ).all()
        # The platform's own consent model (ServiceTitan flags, opt-outs), as the dispatcher asks.
        rows = [
            tuple(row)
            for row in rows
            if suppression_reason(
                conn, tenant_id=tenant, customer_id=row[0], channel="sms", address=row[1]
            )
            is None
        ]
    if len(rows) < count:
        raise RuntimeError(f"only {len(rows)} customers can be texted; {count} are needed")
    return random.Random(seed).sample(rows, count)


def reference_ids(engine: sa.Engine, tenant: int) -> dict[str, int]:
    """A job type with its business unit, and a campaign, to book with."""
    with engine.connect() as conn:
        job_type = conn.execute(
            sa.text(
                "select id, (raw->'businessUnitIds'->>0)::bigint from servicetitan.st_job_types "
                "where tenant_id = :t and active "
                "and jsonb_array_length(raw->'businessUnitIds') > 0 order by id limit 1"
            ),
            {"t": tenant},
        ).one()
        campaign = conn.execute(
            sa.text(
                "select id from servicetitan.st_campaigns where tenant_id = :t and active "
                "order by id limit 1"
            ),
            {"t": tenant},
        ).scalar_one()
    return {"jobTypeId": job_type[0], "businessUnitId": job_type[1], "campaignId": campaign}


def book(client, tenant: int, refs: dict[str, int], customer: tuple, slot: int) -> dict:
    customer_id, _phone, location_id = customer
    start = (datetime.now(UTC) + timedelta(days=1)).replace(
        hour=15, minute=0, second=0, microsecond=0
    ) + timedelta(hours=slot % 6, days=slot // 6)
    return client.post(
        "jpm",
        "jobs",
        json={
            "customerId": customer_id,
            "locationId": location_id,
            **refs,
            "summary": "latency benchmark",
            "appointments": [
                {
                    "start": start.isoformat().replace("+00:00", "Z"),
                    "end": (start + timedelta(hours=2)).isoformat().replace("+00:00", "Z"),
                    "arrivalWindowStart": start.isoformat().replace("+00:00", "Z"),
                    "arrivalWindowEnd": (start + timedelta(hours=2))
                    .isoformat()
                    .replace("+00:00", "Z"),
                }
            ],
        },
    )


STAGES_SQL = sa.text(
    """
    select
        (select max(synced_at) from servicetitan.st_appointments
            where tenant_id = :t and id = :a) as synced,
        (select min(emitted_at) from events.workflow_events
            where event_type = 'appointment_created' and appointment_id = :a) as emitted,
        i.created_at as instance, i.status as instance_status, i.stop_reason,
        o.created_at as queued, o.status, o.provider_id, o.last_error
    from (select 1) as one
    left join automation.workflow_instances i
        on i.definition_name = 'appointment_confirmation' and i.appointment_id = :a
    left join automation.outbox o on o.instance_id = i.id and o.channel = 'sms'
    """
)


def poll(engine: sa.Engine, twilio: httpx.Client, sim_env: dict, tenant: int, change: Change):
    """Fill in the stages reached so far; True once Twilio has accepted the text."""
    with engine.connect() as conn:
        row = conn.execute(STAGES_SQL, {"t": tenant, "a": change.appointment_id}).one()
    for stage in ("synced", "emitted", "instance", "queued"):
        if getattr(row, stage) is not None:
            change.stages[stage] = getattr(row, stage)
    if row.provider_id and "accepted" not in change.stages:
        sid = sim_env["TWILIO_ACCOUNT_SID"]
        message = twilio.get(f"/2010-04-01/Accounts/{sid}/Messages/{row.provider_id}.json").json()
        change.stages["accepted"] = parsedate_to_datetime(message["date_created"])
    if row.status in ("failed", "suppressed"):
        raise RuntimeError(f"appointment {change.appointment_id}: {row.status} {row.last_error}")
    if row.instance_status in ("stopped", "failed") and row.provider_id is None:
        what = f"workflow {row.instance_status}: {row.stop_reason}"
        raise RuntimeError(f"appointment {change.appointment_id}: {what}")
    return "accepted" in change.stages


MISSED_CALL_SQL = sa.text(
    """
    select
        (select max(synced_at) from integrations.callrail_calls where id = :call) as synced,
        (select min(emitted_at) from events.workflow_events
            where event_type = 'call_missed' and payload -> 'call' ->> 'id' = :call) as emitted,
        i.created_at as instance, i.status as instance_status, i.stop_reason,
        o.created_at as queued, o.status, o.provider_id, o.last_error
    from (select 1) as one
    left join events.workflow_events e
        on e.event_type = 'call_missed' and e.payload -> 'call' ->> 'id' = :call
    left join automation.workflow_instances i
        on i.definition_name = 'missed_call_text_back' and i.event_id = e.event_id
    left join automation.outbox o on o.instance_id = i.id and o.channel = 'sms'
    """
)


def poll_missed(engine: sa.Engine, twilio: httpx.Client, sim_env: dict, call: Change) -> bool:
    """Fill in the stages a missed call reached; True once Twilio has accepted the text back."""
    with engine.connect() as conn:
        if conn.execute(sa.text("select to_regclass('events.workflow_events')")).scalar() is None:
            return False
        row = conn.execute(MISSED_CALL_SQL, {"call": call.call_id}).one()
    for stage in ("synced", "emitted", "instance", "queued"):
        if getattr(row, stage) is not None:
            call.stages[stage] = getattr(row, stage)
    if row.provider_id and "accepted" not in call.stages:
        sid = sim_env["TWILIO_ACCOUNT_SID"]
        message = twilio.get(f"/2010-04-01/Accounts/{sid}/Messages/{row.provider_id}.json").json()
        call.stages["accepted"] = parsedate_to_datetime(message["date_created"])
    if row.status in ("failed", "suppressed"):
        raise RuntimeError(f"call {call.call_id}: {row.status} {row.last_error}")
    if row.instance_status in ("stopped", "failed") and row.provider_id is None:
        raise RuntimeError(
            f"call {call.call_id}: workflow {row.instance_status}: {row.stop_reason}"
        )
    return "accepted" in call.stages


def missed_calls(args, engine: sa.Engine, twilio: httpx.Client, sim_env: dict) -> list[Change]:
    """Missed calls from new numbers at random gaps, each followed to the text accepted."""
    rng = random.Random(args.seed + 1)
    admin = httpx.Client(base_url=sim_env["CALLRAIL_API_URL"], timeout=10)
    calls: list[Change] = []
    pending: list[Change] = []
    next_at = time.monotonic()
    while len(calls) < args.missed_calls or pending:
        if len(calls) < args.missed_calls and time.monotonic() >= next_at:
            phone = f"+1602555{rng.randrange(2000, 9999):04d}"
            answer = admin.post(
                "/_admin/calls", json={"phone": phone, "voicemail": len(calls) % 2 == 0}
            )
            answer.raise_for_status()
            call = Change(0, phone, datetime.now(UTC), call_id=answer.json()["id"])
            calls.append(call)
            pending.append(call)
            next_at = time.monotonic() + rng.uniform(*args.gap)
        for call in list(pending):
            if poll_missed(engine, twilio, sim_env, call):
                pending.remove(call)
                print(
                    f"missed call {calls.index(call) + 1:>2}: {call.phone} → SMS accepted after "
                    f"{call.seconds('accepted'):5.1f} s",
                    flush=True,
                )
            elif (datetime.now(UTC) - call.booked_at).total_seconds() > args.timeout:
                raise RuntimeError(
                    f"call {call.call_id}: no SMS after {args.timeout} s "
                    f"(stages reached: {sorted(call.stages)})"
                )
        time.sleep(0.5)
    return calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--size", default="small", choices=("small", "medium", "large"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sync-interval", type=int, default=30)
    parser.add_argument("--gap", type=float, nargs=2, default=(8.0, 20.0))
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--missed-calls", type=int, default=0)
    parser.add_argument("--callrail-interval", type=int, default=20)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="pc-latency-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ST_", "GHL_", "CALLRAIL_", "TWILIO_", "SENDGRID_", "ANTHROPIC_"))
        and k not in ("DATABASE_URL", "DAGSTER_HOME", "SIM_ANCHOR_DATE")
    }
    env.update(
        PERFECT_CATCH_HOME=str(work / "home"),
        PERFECT_CATCH_ENV_FILE=os.devnull,
        SCHEDULES_DEFAULT_ON="true",
        ST_EVENT_SYNC_INTERVAL_SECONDS=str(args.sync_interval),
        CALLRAIL_EVENT_SYNC_INTERVAL_SECONDS=str(args.callrail_interval),
        MESSAGING_QUIET_HOURS_START="00:00",
        MESSAGING_QUIET_HOURS_END="00:00",
        PATH=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
    )
    processes: list[subprocess.Popen] = []
    try:
        sim, sim_env = start_simulator(args.size, args.seed, env)
        processes.append(sim)
        env.update(sim_env)
        os.environ.clear()
        os.environ.update(env)
        from perfect_catch.connectors.servicetitan import ServiceTitanClient
        from perfect_catch.instance import ensure_instance
        from perfect_catch.settings import load_settings
        from perfect_catch.warehouse.engine import get_engine

        started = time.monotonic()
        subprocess.run(
            [str(BIN / "perfect-catch"), "db", "upgrade"],
            env=env,
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            [str(BIN / "perfect-catch"), "run-once"],
            env=env,
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=(work / "run-once.log").open("w"),
        )
        print(f"first load (run-once): {time.monotonic() - started:.0f} s", flush=True)
        settings = load_settings()
        env["DAGSTER_HOME"] = str(ensure_instance(settings))
        daemon_log = (work / "daemon.log").open("w")
        processes.append(
            subprocess.Popen(
                [str(BIN / "dagster-daemon"), "run", "-w", str(ROOT / "workspace.yaml")],
                env=env,
                cwd=ROOT,
                stdout=daemon_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its code server and runs are stopped with it
            )
        )
        engine = get_engine(settings)
        tenant = settings.st_tenant_ids[0]
        customers = (
            texting_customers(engine, tenant, args.changes, args.seed) if args.changes else []
        )
        refs = reference_ids(engine, tenant)
        print("daemon started; letting the first ticks settle for 60 s", flush=True)
        time.sleep(60)

        rng = random.Random(args.seed)
        changes: list[Change] = []
        twilio = httpx.Client(
            base_url=sim_env["TWILIO_API_URL"],
            auth=(sim_env["TWILIO_ACCOUNT_SID"], sim_env["TWILIO_AUTH_TOKEN"]),
            timeout=10,
        )
        with ServiceTitanClient.from_settings(settings, tenant) as client:
            next_at = time.monotonic()
            pending: list[Change] = []
            while len(changes) < args.changes or pending:
                if len(changes) < args.changes and time.monotonic() >= next_at:
                    customer = customers[len(changes)]
                    job = book(client, tenant, refs, customer, len(changes))
                    change = Change(customer[0], customer[1], datetime.now(UTC))
                    change.job_id = job["id"]
                    change.appointment_id = job["firstAppointmentId"]
                    changes.append(change)
                    pending.append(change)
                    next_at = time.monotonic() + rng.uniform(*args.gap)
                for change in list(pending):
                    if poll(engine, twilio, sim_env, tenant, change):
                        pending.remove(change)
                        print(
                            f"change {changes.index(change) + 1:>2}: appointment "
                            f"{change.appointment_id} → SMS accepted after "
                            f"{change.seconds('accepted'):5.1f} s",
                            flush=True,
                        )
                    elif (datetime.now(UTC) - change.booked_at).total_seconds() > args.timeout:
                        raise RuntimeError(
                            f"appointment {change.appointment_id}: no SMS after {args.timeout} s "
                            f"(stages reached: {sorted(change.stages)}); see {work}/daemon.log"
                        )
                time.sleep(0.5)
        if changes:
            report(changes)
            report_lane_runs()
        if args.missed_calls:
            calls = missed_calls(args, engine, twilio, sim_env)
            report(calls, what="missed call")
            report_lane_runs("callrail_event_sync")
        return 0
    finally:
        for proc in reversed(processes):
            _stop(proc)
        if not args.keep:
            subprocess.run(
                [str(BIN / "perfect-catch"), "db", "stop"],
                env=env,
                check=False,
                stdout=subprocess.DEVNULL,
            )
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"work directory kept: {work}")


def _stop(proc: subprocess.Popen) -> None:
    """Stop a process and, when it leads its own session (the daemon), everything it started."""
    group = os.getpgid(proc.pid) if proc.poll() is None else None
    signal_to = (lambda sig: os.killpg(group, sig)) if group == proc.pid else proc.send_signal
    signal_to(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        signal_to(signal.SIGKILL)
    if group == proc.pid:
        time.sleep(1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)


def report(changes: list[Change], what: str = "change") -> None:
    stages = ("synced", "emitted", "instance", "queued", "accepted")
    print("\nchange  " + "".join(f"{stage:>10}" for stage in stages))
    for n, change in enumerate(changes, 1):
        cells = "".join(f"{change.seconds(stage) or float('nan'):10.1f}" for stage in stages)
        print(f"{n:>6}  {cells}")
    print(f"\n{'stage (s after the change)':<28}{'median':>8}{'worst':>8}")
    for stage in stages:
        values = [v for c in changes if (v := c.seconds(stage)) is not None]
        if values:
            print(f"{stage:<28}{statistics.median(values):8.1f}{max(values):8.1f}")
    latencies = sorted(c.seconds("accepted") or 0.0 for c in changes)
    print(
        f"\n{what} → SMS accepted, {len(latencies)} of them: median "
        f"{statistics.median(latencies):.1f} s, worst {latencies[-1]:.1f} s (target < 60 s)"
    )


def report_lane_runs(job_name: str = "servicetitan_event_sync") -> None:
    """Where a fast-lane run spends its time: queued and launched (request → start), then each
    step, and the whole run (median and worst of the runs that finished)."""
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        every = instance.get_run_records(dg.RunsFilter(job_name=job_name))
        statuses: dict[str, int] = {}
        for record in every:
            status = record.dagster_run.status.value
            statuses[status] = statuses.get(status, 0) + 1
        records = [r for r in every if r.dagster_run.status == dg.DagsterRunStatus.SUCCESS]
        timings: dict[str, list[float]] = {}
        for record in records:
            if record.start_time is None or record.end_time is None:
                continue
            timings.setdefault("request → start", []).append(
                record.start_time - record.create_timestamp.timestamp()
            )
            for step in instance.get_run_step_stats(record.dagster_run.run_id):
                if step.start_time and step.end_time:
                    timings.setdefault(step.step_key, []).append(step.end_time - step.start_time)
            timings.setdefault("whole run (start → end)", []).append(
                record.end_time - record.start_time
            )
    counts = ", ".join(f"{n} {status.lower()}" for status, n in sorted(statuses.items()))
    print(f"\nfast-lane runs ({counts}), seconds of the successful ones: median, worst")
    for name, values in timings.items():
        print(f"  {name[:40]:<44}{statistics.median(values):8.1f}{max(values):8.1f}")


if __name__ == "__main__":
    raise SystemExit(main())
