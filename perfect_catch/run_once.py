"""`perfect-catch run-once`: every stage of the platform once, in order, then a summary.

For cron-driven installs without the Dagster daemon, and for checking a setup end to end:
sync every source that is configured, build the dbt models, process due workflow events and
send the outbox. A stage that fails is reported and the stages that do not depend on it still
run; the exit status says whether everything succeeded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from perfect_catch.settings import Settings


@dataclass(frozen=True)
class StageResult:
    """What one stage did: a one-line summary, or the error that stopped it."""

    name: str
    ok: bool
    summary: str
    seconds: float


Stage = Callable[[Settings], str]


def _servicetitan(settings: Settings) -> str:
    from perfect_catch.sync_cli import run_servicetitan_sync

    if not settings.st_tenant_ids:
        return "skipped: ST_TENANT_IDS is empty"
    failures = run_servicetitan_sync(settings, settings.st_tenant_ids, [], full=False)
    if failures:
        raise RuntimeError("; ".join(failures))
    return f"{len(settings.st_tenant_ids)} tenant(s) synced"


def _gohighlevel(settings: Settings) -> str:
    from perfect_catch.integrations import runner

    if not settings.ghl_token.get_secret_value():
        return "skipped: GHL_TOKEN is not set"
    pulled = runner.run_ghl_sync(settings)
    pushed = runner.run_ghl_reconcile(settings)
    failures = [line for result in pushed.values() for line in result.failures]
    if failures:
        raise RuntimeError(f"{len(failures)} push(es) failed, first: {failures[0]}")
    written = sum(result.written for result in pulled)
    return f"{written} record(s) pulled, {len(pushed)} tenant(s) reconciled"


def _callrail(settings: Settings) -> str:
    from perfect_catch.integrations import runner

    if not settings.callrail_api_key.get_secret_value():
        return "skipped: CALLRAIL_API_KEY is not set"
    result = runner.run_callrail_sync(settings)
    return f"{result.records} call(s) read, {result.written} written"


def _suppliers(settings: Settings) -> str:
    from perfect_catch.connectors.suppliers import configured_suppliers
    from perfect_catch.integrations.supplier_refresh import refresh_all
    from perfect_catch.warehouse.engine import get_engine

    if not configured_suppliers(settings):
        return "skipped: no supplier credentials (POOL360_*, CED_*, HOMEDEPOT_API_KEY) are set"
    report = refresh_all(get_engine(settings), settings)
    if report.failures:
        raise RuntimeError(report.line())
    return report.line()


def _dbt(settings: Settings) -> str:
    from perfect_catch.warehouse import dbt_runner

    result = dbt_runner.build(settings).check()
    return f"{len(result.nodes)} node(s) built and tested in {result.seconds:.1f} s"


def _workflows(settings: Settings) -> str:
    from perfect_catch.warehouse.engine import get_engine
    from perfect_catch.workflows.passes import process_events_once

    return process_events_once(get_engine(settings), settings).line()


def _outbox(settings: Settings) -> str:
    from datetime import UTC, datetime

    from perfect_catch.messaging import outbox_ops
    from perfect_catch.messaging.dispatcher import dispatch_due
    from perfect_catch.messaging.providers import Providers, configured_channels
    from perfect_catch.messaging.reconcile import reconcile
    from perfect_catch.warehouse.engine import get_engine

    channels = configured_channels(settings)
    if not channels:
        return "skipped: neither Twilio (TWILIO_*) nor SendGrid (SENDGRID_API_KEY) is set up"
    engine, providers = get_engine(settings), Providers(settings)
    settled = reconcile(engine, providers, settings.messaging, now=datetime.now(UTC))
    r = dispatch_due(engine, settings, channels=channels, providers=providers)
    summary = (
        f"reconciled: {settled.sent} sent, {settled.released} released; "
        f"{r.sent} sent, {r.reconciled} reconciled, {r.deferred} deferred, "
        f"{r.suppressed} suppressed, {r.retrying} retrying, {r.failed} failed"
    )
    left = outbox_ops.unknown_count(engine)
    if left:
        raise RuntimeError(
            f"{summary}; {left} message(s) left unknown (claimed, never proven sent, and the "
            "provider could not be asked): see `perfect-catch outbox status`, then "
            "`perfect-catch outbox reconcile` or, after checking, `perfect-catch outbox release`"
        )
    return summary


STAGES: tuple[tuple[str, Stage], ...] = (
    ("servicetitan", _servicetitan),
    ("gohighlevel", _gohighlevel),
    ("callrail", _callrail),
    ("suppliers", _suppliers),
    ("dbt", _dbt),
    ("workflows", _workflows),
    ("outbox", _outbox),
)


def run_once(settings: Settings, console: Console | None = None) -> list[StageResult]:
    """Run every stage in order; a failed stage is recorded and the next ones still run."""
    from perfect_catch.monitoring.recording import new_run_id
    from perfect_catch.monitoring.watch import watched_stage

    console = console or Console(stderr=True)
    results = []
    run_id = new_run_id("run-once")
    for name, stage in STAGES:
        started = time.monotonic()
        console.print(f"[bold]{name}[/bold] …")
        try:
            summary = watched_stage(settings, name, stage, run_id)
            ok = True
        except Exception as error:  # reported in the summary; the other stages still run
            summary, ok = f"{type(error).__name__}: {error}", False
        results.append(StageResult(name, ok, summary, time.monotonic() - started))
    table = Table(title="run-once")
    for column in ("stage", "result", "seconds", "summary"):
        table.add_column(column)
    for result in results:
        status = "[green]ok[/green]" if result.ok else "[red]FAILED[/red]"
        table.add_row(result.name, status, f"{result.seconds:.1f}", result.summary)
    console.print(table)
    return results
