"""`perfect-catch outbox status|reconcile|release`: the outbox for operators.

After a crash some messages can be left `sending` or `unknown` (claimed, never proven sent).
These commands show them, settle them by asking the provider (the same `reconcile` the
monitoring's healing runs), and release chosen rows by hand after a human checked them.
Exit status: 0 done and nothing left unknown, 1 rows remain unknown (or a release was refused),
2 bad configuration or database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
import typer

from perfect_catch.settings import Settings, SettingsError, load_settings

outbox_app = typer.Typer(
    help="The outbox for operators: what is stuck, reconcile it with the providers, release "
    "rows by hand.",
    no_args_is_help=True,
)


def _settings(ctx: typer.Context) -> Settings:
    """The invocation's settings (the root command's, when run through `perfect-catch`)."""
    shared: Any = ctx.obj
    if shared is not None and hasattr(shared, "settings"):
        return shared.settings()
    try:
        return load_settings()
    except SettingsError as error:
        typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from None


def _print_json(value: Any) -> None:
    typer.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode())


@outbox_app.command("status")
def status_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Counts by status and channel, the oldest pending message, and every `unknown` row with
    its age. Exits 1 when rows are `unknown`."""
    from perfect_catch.messaging import outbox_ops
    from perfect_catch.warehouse.engine import get_engine

    report = outbox_ops.status(get_engine(_settings(ctx)), now=datetime.now(UTC))
    if as_json:
        _print_json(report)
    else:
        typer.echo(f"{report['total']} message(s) in the outbox")
        for state, channels in report["counts"].items():
            per = ", ".join(f"{channel} {n}" for channel, n in channels.items())
            typer.echo(f"  {state:<12} {per}")
        oldest = report["oldest_pending"]
        if oldest:
            typer.echo(
                f"oldest pending: #{oldest['id']} ({oldest['channel']}), waiting "
                f"{oldest['age_seconds']} s, due {oldest['due_at'].isoformat()}"
                + (f": {oldest['deferred_reason']}" if oldest["deferred_reason"] else "")
            )
        for row in report["unknown"]:
            typer.echo(
                f"unknown #{row['id']} {row['channel']} to {row['to']} for "
                f"{row['age_seconds']} s: {row['why'] or ''}"
            )
    if report["unknown_count"]:
        raise typer.Exit(code=1)


@outbox_app.command("reconcile")
def reconcile_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Ask the provider about stale `sending` and all `unknown` rows by their idempotency key:
    mark sent what it holds, release (to be sent) what it never got. Exits 1 when rows are
    left `unknown` (the provider could not be asked)."""
    from perfect_catch.messaging.providers import Providers
    from perfect_catch.messaging.reconcile import reconcile
    from perfect_catch.warehouse.engine import get_engine

    settings = _settings(ctx)
    report = reconcile(
        get_engine(settings), Providers(settings), settings.messaging, now=datetime.now(UTC)
    )
    if as_json:
        _print_json(report.as_dict())
    else:
        typer.echo(report.line())
        for note in report.notes:
            typer.echo(f"  {note}")
    if report.unknown:
        raise typer.Exit(code=1)


@outbox_app.command("release")
def release_command(
    ctx: typer.Context,
    ids: Annotated[list[int], typer.Argument(help="Outbox row ids (see `outbox status`).")],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Release without asking for confirmation.")
    ] = False,
) -> None:
    """Put `unknown` rows back to `pending` so the next pass sends them. Only do this after
    checking the provider's console: a row released that was in fact sent is sent twice."""
    from perfect_catch.messaging import outbox_ops
    from perfect_catch.warehouse.engine import get_engine

    settings = _settings(ctx)
    if not yes:
        typer.confirm(
            f"Release {len(ids)} outbox row(s) {', '.join(map(str, ids))} to be sent again?",
            abort=True,
        )
    outcome = outbox_ops.release(get_engine(settings), ids)
    for outbox_id, what in outcome.items():
        typer.echo(f"#{outbox_id}: {what}")
    if any(what != "released" for what in outcome.values()):
        raise typer.Exit(code=1)
