"""`perfect-catch health`: one table of the platform's health and an exit code for machines.

Exit 0 when healthy, 1 when anything is unhealthy, 2 when the database cannot be reached (or
is not migrated). It reads PostgreSQL only, so cron, uptime checks and Kubernetes probes can
call it with or without the Dagster daemon.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.table import Table

from perfect_catch.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from perfect_catch.monitoring.health import HealthReport

HEALTHY, UNHEALTHY, UNREACHABLE = 0, 1, 2


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def render(report: HealthReport, console: Console) -> None:
    """The rich table of every scope, then incidents, backlogs and the verdict."""
    table = Table(title="perfect-catch health")
    for column in (
        "source",
        "tenant",
        "entity",
        "last success",
        "age / limit",
        "last error",
        "open incidents",
    ):
        table.add_column(column)
    for scope in report.scopes:
        limit = _age(scope.limit_seconds) if scope.limit_seconds else "-"
        age = f"{_age(scope.age_seconds)} / {limit}"
        table.add_row(
            scope.source,
            scope.tenant_id or "-",
            scope.entity or "(all)",
            scope.last_success.strftime("%Y-%m-%d %H:%M:%S") if scope.last_success else "never",
            age if scope.fresh else f"[red]{age}[/red]",
            (scope.last_error or "")[:60],
            ", ".join(scope.incidents),
        )
    console.print(table)
    for incident in report.incidents:
        console.print(
            f"[red]incident #{incident['id']}[/red] {incident['kind']} "
            f"{incident['source']} {incident['tenant_id'] or ''} "
            f"({incident['occurrences']}x): {incident['diagnosis']}"
        )
    o = report.outbox
    console.print(
        f"event backlog {report.event_backlog} · outbox queued {o['queued']}, unknown "
        f"{o['unknown']}, failed {o['failed']} · dispatcher lag "
        f"{_age(report.dispatcher_lag_seconds)}"
    )
    for problem in report.problems:
        console.print(f"[red]unhealthy:[/red] {problem}")
    console.print("[green]healthy[/green]" if report.healthy else "[red]UNHEALTHY[/red]")


def health(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Show every source × tenant × entity (last success, age against its freshness policy,
    last error), open incidents with their diagnosis, the event and outbox backlogs and the
    dispatcher lag. Exit 0 healthy, 1 unhealthy, 2 database unreachable."""
    settings = _settings(ctx)
    try:
        report = _report(settings)
    except (sa.exc.OperationalError, sa.exc.InterfaceError, OSError, RuntimeError) as error:
        _unreachable(settings, f"cannot reach the database: {type(error).__name__}", as_json)
    except sa.exc.ProgrammingError:
        _unreachable(
            settings,
            "the database has no monitoring schema: run `perfect-catch db upgrade`",
            as_json,
        )
    if as_json:
        typer.echo(json.dumps(report.as_dict(), default=str, indent=2))
    else:
        render(report, Console())
    raise typer.Exit(HEALTHY if report.healthy else UNHEALTHY)


def _settings(ctx: typer.Context) -> Settings:
    settings = getattr(ctx.obj, "settings", None)
    if callable(settings):
        return settings()
    try:
        return load_settings()
    except SettingsError as error:
        typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(UNREACHABLE) from None


def _report(settings: Settings) -> HealthReport:
    from perfect_catch.monitoring.health import health_report
    from perfect_catch.warehouse.engine import get_engine

    return health_report(get_engine(settings), settings)


def _unreachable(settings: Settings, message: str, as_json: bool) -> None:
    from perfect_catch.monitoring.scrub import Scrubber

    message = Scrubber.from_settings(settings).text(message)
    if as_json:
        typer.echo(json.dumps({"healthy": False, "reachable": False, "error": message}))
    else:
        typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(UNREACHABLE)
