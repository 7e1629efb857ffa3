"""`perfect-catch`: the command line of the platform.

Every command reads the same settings as Dagster does, so what runs here is what runs there.
Configuration errors end the command with one line naming the variable, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import text as sa_text

from perfect_catch.health_cli import health as health_command
from perfect_catch.instance_cli import instance_app
from perfect_catch.outbox_cli import outbox_app
from perfect_catch.settings import Settings, SettingsError, load_settings
from perfect_catch.suppliers_cli import app as suppliers_app

app = typer.Typer(
    name="perfect-catch",
    help="Sync ServiceTitan, GoHighLevel and CallRail into PostgreSQL, derive business events "
    "and run customer workflows. Configuration comes from the environment and `.env` "
    "(see README).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(
    help="The warehouse database: migrations and the embedded server.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
workflows_app = typer.Typer(
    help="Workflow definitions: list them, switch them on or off without a deploy.",
    no_args_is_help=True,
)
app.add_typer(workflows_app, name="workflows")
app.add_typer(outbox_app, name="outbox")
app.add_typer(suppliers_app, name="suppliers")
app.command("health")(health_command)
app.add_typer(instance_app, name="instance")

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


@dataclass
class CliContext:
    """What the commands of one invocation share: the settings, read once on first use, so a
    command that needs none (`simulate`) runs whatever the configuration holds."""

    loaded: Settings | None = None

    def settings(self) -> Settings:
        if self.loaded is None:
            try:
                self.loaded = load_settings()
            except SettingsError as error:
                raise _fail(str(error)) from None
        return self.loaded


@app.callback()
def _invocation(ctx: typer.Context) -> None:
    # One context per invocation (a caller may hand its own, e.g. with settings already built).
    ctx.ensure_object(CliContext)


def _settings(ctx: typer.Context) -> Settings:
    """The invocation's settings; a bad value ends the command naming the variable."""
    return ctx.ensure_object(CliContext).settings()


@db_app.command("upgrade")
def db_upgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply pending migrations (idempotent: a current database is left as it is)."""
    from perfect_catch.warehouse import migrate
    from perfect_catch.warehouse.engine import get_engine

    engine = get_engine(_settings(ctx))
    before = migrate.current_revision(engine)
    migrate.upgrade(engine, revision)
    after = migrate.current_revision(engine)
    typer.echo(f"database at {after}" + ("" if before == after else f" (was {before})"))


@db_app.command("downgrade")
def db_downgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision; `base` removes everything.")],
) -> None:
    """Revert migrations down to REVISION."""
    from perfect_catch.warehouse import migrate
    from perfect_catch.warehouse.engine import get_engine

    engine = get_engine(_settings(ctx))
    migrate.downgrade(engine, revision)
    typer.echo(f"database at {migrate.current_revision(engine)}")


@db_app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Print the database's migration revision and the newest one this code knows."""
    from perfect_catch.warehouse import migrate
    from perfect_catch.warehouse.engine import get_engine

    typer.echo(f"current: {migrate.current_revision(get_engine(_settings(ctx)))}")
    typer.echo(f"head:    {migrate.head_revision()}")


@db_app.command("url")
def db_url(ctx: typer.Context) -> None:
    """Print the warehouse URL (password masked), starting the embedded server if needed."""
    from perfect_catch.warehouse.engine import safe_url, sqlalchemy_url

    typer.echo(safe_url(sqlalchemy_url(_settings(ctx))))


@db_app.command("stop")
def db_stop(ctx: typer.Context) -> None:
    """Stop the embedded PostgreSQL server of PERFECT_CATCH_HOME (no-op with DATABASE_URL)."""
    from perfect_catch.warehouse.embedded import stop_server

    settings = _settings(ctx)
    if settings.database_url:
        typer.echo("DATABASE_URL is set: there is no embedded server to stop")
        return
    stopped = stop_server(settings.home)
    typer.echo("embedded server stopped" if stopped else "embedded server was not running")


@app.command()
def simulate(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 8765,
    seed: Annotated[int, typer.Option(help="Seed of every generated record.")] = 1,
    size: Annotated[
        str, typer.Option(help="Tenant size: small (~200 customers), medium, large (1M+).")
    ] = "small",
    anchor_date: Annotated[
        str | None,
        typer.Option(
            help="Date (YYYY-MM-DD) the simulated clock starts on; history ends the day "
            "before. Default: SIM_ANCHOR_DATE, else today.",
        ),
    ] = None,
) -> None:
    """Serve every simulated external API on 127.0.0.1:PORT.

    On start it prints one KEY=value line per environment variable a client needs
    (ST_API_URL=…, ST_CLIENT_ID=…), so `eval`/`export` or a test can adopt them.
    """
    if size not in ("small", "medium", "large"):
        raise _fail(f"--size must be small, medium or large, not {size!r}")
    from perfect_catch.simulators.server import serve
    from perfect_catch.simulators.timeline import resolve_anchor

    try:
        anchor = resolve_anchor(anchor_date)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    serve(port=port, seed=seed, size=size, anchor=anchor)


@workflows_app.command("list")
def workflows_list(ctx: typer.Context) -> None:
    """List the workflow definitions with their trigger, version and whether they are on."""
    from perfect_catch.warehouse.engine import get_engine
    from perfect_catch.workflows.definitions import sync_definitions

    settings = _settings(ctx)
    loaded = _workflow_files(settings)
    _require_current_schema(settings)
    engine = get_engine(settings)
    sync_definitions(engine, loaded)
    with engine.connect() as conn:
        rows = conn.execute(
            sa_text(
                "select name, event_type, enabled, left(version, 12) as version "
                "from automation.workflow_definitions where removed_at is null order by name"
            )
        ).all()
    for row in rows:
        state = "on " if row.enabled else "off"
        typer.echo(f"{state}  {row.name:<32} {row.event_type:<22} {row.version}")


def _workflow_files(settings: Settings) -> list:
    """The definitions of WORKFLOWS_DIR, read before the database is touched; an invalid,
    missing or empty folder ends the command with the error naming it."""
    from perfect_catch.workflows.definitions import WorkflowDefinitionError, load_definitions

    try:
        return load_definitions(settings.workflows.workflows_dir)
    except WorkflowDefinitionError as error:
        raise _fail(str(error)) from None


def _set_workflow(ctx: typer.Context, name: str, enabled: bool) -> None:
    from perfect_catch.warehouse.engine import get_engine
    from perfect_catch.workflows.definitions import (
        WorkflowNotFoundError,
        set_enabled,
        sync_definitions,
    )

    settings = _settings(ctx)
    loaded = _workflow_files(settings)
    _require_current_schema(settings)
    engine = get_engine(settings)
    sync_definitions(engine, loaded)
    try:
        set_enabled(engine, name, enabled)
    except WorkflowNotFoundError as error:
        raise _fail(str(error)) from None
    typer.echo(f"{name}: {'enabled' if enabled else 'disabled'}")


@workflows_app.command("enable")
def workflows_enable(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="Workflow name.")]
) -> None:
    """Switch a workflow on: new events start it again."""
    _set_workflow(ctx, name, True)


@workflows_app.command("disable")
def workflows_disable(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="Workflow name.")]
) -> None:
    """Switch a workflow off: new events no longer start it, and running instances wait at
    their next step until it is enabled again."""
    _set_workflow(ctx, name, False)


SOURCES = ("servicetitan", "gohighlevel", "callrail")


def _require_current_schema(settings: Settings) -> None:
    from perfect_catch.warehouse import migrate
    from perfect_catch.warehouse.engine import get_engine

    current, head = migrate.current_revision(get_engine(settings)), migrate.head_revision()
    if current != head:
        raise _fail(f"the database is at {current}, not {head}: run `perfect-catch db upgrade`")


@app.command()
def sync(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="What to sync: servicetitan.")],
    entity: Annotated[
        list[str] | None,
        typer.Option("--entity", "-e", help="Entity to sync (repeatable); default: all."),
    ] = None,
    full: Annotated[
        bool, typer.Option(help="Reread from the start and soft-delete what the source dropped.")
    ] = False,
    tenant: Annotated[
        list[int] | None,
        typer.Option("--tenant", "-t", help="Tenant id (repeatable); default: ST_TENANT_IDS."),
    ] = None,
) -> None:
    """Sync a source (servicetitan, gohighlevel, callrail) into the warehouse now.

    Runs the same code as the Dagster assets: incremental from the stored continuation tokens
    and watermarks, or full with --full. ServiceTitan shows a progress bar per entity.
    """
    if source not in SOURCES:
        raise _fail(f"unknown source {source!r}; known: {', '.join(SOURCES)}")
    settings = _settings(ctx)
    if source != "servicetitan":
        _require_current_schema(settings)
        _sync_integration(settings, source, full=full)
        return
    from perfect_catch.sync_cli import run_servicetitan_sync

    tenants = tenant or settings.st_tenant_ids
    if not tenants:
        raise _fail("no tenant: set ST_TENANT_IDS or pass --tenant")
    _require_current_schema(settings)
    try:
        failures = run_servicetitan_sync(settings, tenants, entity or [], full=full)
    except KeyError as error:
        raise _fail(str(error.args[0])) from None
    if failures:
        raise typer.Exit(code=1)


def _sync_integration(settings: Settings, source: str, *, full: bool) -> None:
    from perfect_catch.connectors.http import ApiError
    from perfect_catch.integrations import runner

    try:
        if source == "gohighlevel":
            results = runner.run_ghl_sync(settings, full=full)
        else:
            results = [runner.run_callrail_sync(settings, full=full)]
    except (SettingsError, ApiError) as error:
        raise _fail(str(error)) from None
    for result in results:
        typer.echo(
            f"{source} {result.entity}: {result.records:,} read, {result.written:,} written, "
            f"{result.pages} pages"
        )


@app.command("ghl-push")
def ghl_push(ctx: typer.Context) -> None:
    """Push ServiceTitan to GoHighLevel now, repairing any drift.

    Contacts, opportunities and stages; idempotent, and every push is logged in
    integrations.ghl_sync_log.
    """
    from perfect_catch.connectors.http import ApiError
    from perfect_catch.integrations import runner

    settings = _settings(ctx)
    _require_current_schema(settings)
    try:
        results = runner.run_ghl_reconcile(settings)
    except (SettingsError, ApiError) as error:
        raise _fail(str(error)) from None
    failed = False
    for tenant_id, result in results.items():
        for entity, counts in sorted(result.counts.items()):
            summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
            typer.echo(f"tenant {tenant_id} {entity}: {summary}")
        for line in result.failures:
            failed = True
            typer.secho(f"failed: {line}", fg=typer.colors.RED, err=True)
    if failed:
        raise typer.Exit(code=1)


@app.command()
def mcp(
    ctx: typer.Context,
    http: Annotated[
        bool, typer.Option(help="Serve streamable HTTP on /mcp instead of stdio.")
    ] = False,
    port: Annotated[int, typer.Option(help="Port of the HTTP transport.")] = 8765,
    host: Annotated[
        str,
        typer.Option(
            help="Address of the HTTP transport; off loopback MCP_HTTP_TOKEN is required."
        ),
    ] = "127.0.0.1",
) -> None:
    """Run the MCP server (stdio by default, as Claude Desktop and Claude Code start it; with
    --http, streamable HTTP on /mcp behind the MCP_HTTP_TOKEN bearer token)."""
    from mcp_server.server import run

    try:
        run(transport="http" if http else "stdio", host=host, port=port, settings=_settings(ctx))
    except ValueError as error:
        raise _fail(str(error)) from None


dbt_app = typer.Typer(
    help="The dbt project: staging, marts and event models.", no_args_is_help=True
)
app.add_typer(dbt_app, name="dbt")


@dbt_app.command("build")
def dbt_build(
    ctx: typer.Context,
    select: Annotated[
        list[str] | None, typer.Option("--select", "-s", help="dbt selection (repeatable).")
    ] = None,
    full_refresh: Annotated[
        bool, typer.Option(help="Rebuild incremental models from scratch.")
    ] = False,
    vars: Annotated[
        str | None, typer.Option("--vars", help='dbt vars as JSON, e.g. {"as_of": "..."}')
    ] = None,
) -> None:
    """Build and test the dbt models on the warehouse (the same run the Dagster assets do)."""
    import json

    from perfect_catch.warehouse import dbt_runner

    settings = _settings(ctx)
    _require_current_schema(settings)
    try:
        parsed = json.loads(vars) if vars else None
    except json.JSONDecodeError as error:
        raise _fail(f"--vars is not valid JSON: {error}") from None
    result = dbt_runner.build(settings, select or None, full_refresh, parsed)
    for node in result.failed:
        typer.secho(f"failed: {node.unique_id}: {node.message}", fg=typer.colors.RED, err=True)
    typer.echo(
        f"dbt build: {len(result.nodes)} nodes in {result.seconds:.1f} s, "
        f"{len(result.failed)} failed"
    )
    if not result.success:
        raise typer.Exit(code=1)


@app.command("serve-webhooks")
def serve_webhooks(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "0.0.0.0",
) -> None:
    """Receive provider webhooks: Twilio inbound SMS (STOP/START) and status callbacks,
    SendGrid events, GoHighLevel contact and opportunity updates. Signatures are verified."""
    from perfect_catch.webhooks.app import serve

    serve(_settings(ctx), port=port, host=host)


@app.command("run-once")
def run_once(ctx: typer.Context) -> None:
    """Run every stage once and exit with a summary: sync every configured source, build the
    dbt models, process due workflow events and send the outbox."""
    from perfect_catch.run_once import run_once as run_all_stages

    settings = _settings(ctx)
    _require_current_schema(settings)
    results = run_all_stages(settings)
    if not all(result.ok for result in results):
        raise typer.Exit(code=1)


@app.command()
def materialize(
    ctx: typer.Context,
    select: Annotated[
        list[str], typer.Argument(help="Asset keys, slash-separated (e.g. warehouse/schema).")
    ],
    partition: Annotated[
        str | None, typer.Option(help="Partition key (a ServiceTitan tenant id).")
    ] = None,
) -> None:
    """Materialize assets now, recording the run in the platform's Dagster instance."""
    import dagster as dg

    from perfect_catch.definitions import defs
    from perfect_catch.instance import ensure_instance

    ensure_instance(_settings(ctx))
    definitions = defs()
    keys = [dg.AssetKey(item.split("/")) for item in select]
    known = {spec.key for spec in definitions.resolve_all_asset_specs()}
    unknown = [key.to_user_string() for key in keys if key not in known]
    if unknown:
        raise _fail(f"unknown asset(s): {', '.join(unknown)}")
    job = definitions.resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance,
            asset_selection=keys,
            partition_key=partition,
            raise_on_error=False,
        )
    typer.echo(f"run {result.run_id}: {'success' if result.success else 'FAILURE'}")
    if not result.success:
        raise typer.Exit(code=1)


@app.command()
def ui(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port of the Dagster UI.")] = 3000,
) -> None:
    """Start the Dagster code server, UI and daemon (schedules, sensors, run queue) on this
    project; Ctrl-C or SIGTERM stops all of them."""
    from perfect_catch.demo import serve_dagster
    from perfect_catch.instance import ensure_instance

    home = ensure_instance(_settings(ctx))
    raise typer.Exit(serve_dagster(home, port))


@app.command()
def demo(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port of the Dagster UI.")] = 3000,
    sim_port: Annotated[int, typer.Option(help="Port of the simulators.")] = 8765,
    seed: Annotated[int, typer.Option(help="Seed of the demo tenant.")] = 1,
    size: Annotated[str, typer.Option(help="Demo tenant size: small, medium, large.")] = "medium",
    day_seconds: Annotated[
        float, typer.Option(help="Seconds between simulated business days (0: never).")
    ] = 300,
) -> None:
    """Embedded PostgreSQL + simulators + a demo tenant + the Dagster UI, schedules on.

    While it runs, the ServiceTitan simulator lives through a business day every
    --day-seconds, so syncs, dbt builds and sensors have changes to pick up.
    """
    from perfect_catch.demo import exit_at_once, run_demo

    exit_at_once(
        run_demo(
            _settings(ctx),
            port=port,
            sim_port=sim_port,
            seed=seed,
            size=size,
            day_seconds=day_seconds,
        )
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
