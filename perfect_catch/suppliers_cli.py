"""`perfect-catch suppliers ...`: refresh supplier prices now, and push costs back on request.

Pricebook costs are never changed automatically: `propose` writes a batch and prints what it
would change, a person reads it, `apply BATCH` sends it to ServiceTitan, `rollback BATCH` undoes
it. Exit codes: 0 done, 1 a supplier or a material failed, 2 bad input or configuration.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from perfect_catch.settings import Settings, SettingsError, load_settings

app = typer.Typer(
    help="Supplier prices (Pool360, CED, Home Depot) and pricebook cost updates from them.",
    no_args_is_help=True,
)


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=code)


def _settings(ctx: typer.Context) -> Settings:
    """The invocation's settings (the root command's, when it has read them)."""
    shared = getattr(ctx.find_root().obj, "settings", None)
    try:
        return shared() if callable(shared) else load_settings()
    except SettingsError as error:
        raise _fail(str(error)) from None


def _tenant(settings: Settings, tenant: int | None) -> int:
    if tenant is not None:
        return tenant
    if not settings.st_tenant_ids:
        raise _fail("no tenant: pass --tenant or set ST_TENANT_IDS")
    return settings.st_tenant_ids[0]


TenantOption = Annotated[
    int | None, typer.Option("--tenant", "-t", help="ServiceTitan tenant (default: the first).")
]


@app.command("refresh")
def refresh(ctx: typer.Context) -> None:
    """Fetch every configured supplier's prices now, store changes and rebuild the map."""
    from perfect_catch.connectors.suppliers import configured_suppliers
    from perfect_catch.integrations.supplier_refresh import refresh_all
    from perfect_catch.warehouse.engine import get_engine

    settings = _settings(ctx)
    if not configured_suppliers(settings):
        raise _fail("no supplier credentials are set (POOL360_*, CED_*, HOMEDEPOT_API_KEY)")
    report = refresh_all(get_engine(settings), settings)
    for run in report.runs:
        typer.echo(run.line())
    if report.mapping is not None:
        typer.echo(report.mapping.line())
    if report.failures:
        raise typer.Exit(code=1)


def _print_changes(title: str, rows: list[dict[str, Any]]) -> None:
    table = Table(title=title)
    for column in ("material", "name", "vendor", "sku", "cost now", "supplier price", "diff %"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["material_id"]),
            str(row.get("material_name") or ""),
            row["vendor"],
            row["sku"],
            "" if row.get("old_cost") is None else f"{row['old_cost']:.2f}",
            f"{row['new_cost']:.2f}",
            "" if row.get("difference_pct") is None else f"{row['difference_pct']:+.1f}",
        )
    Console().print(table)


@app.command("propose")
def propose(
    ctx: typer.Context,
    tenant: TenantOption = None,
    threshold: Annotated[
        float | None,
        typer.Option(min=0, help="Least difference, percent of the cost (default: the setting)."),
    ] = None,
) -> None:
    """Write a batch of proposed cost changes (drift at or above the threshold) and print it.
    Nothing is sent to ServiceTitan: review the table, then `suppliers apply BATCH`."""
    from perfect_catch.integrations import cost_updates
    from perfect_catch.warehouse.engine import get_engine

    settings = _settings(ctx)
    limit = (
        settings.suppliers.supplier_cost_change_threshold_pct if threshold is None else threshold
    )
    proposal = cost_updates.propose(get_engine(settings), _tenant(settings, tenant), limit)
    if proposal.batch_id is None:
        typer.echo(f"no material's cost differs from its best supplier price by {limit}% or more")
        return
    _print_changes(
        f"batch {proposal.batch_id}: {len(proposal.changes)} proposed change(s)",
        [vars(c) for c in proposal.changes],
    )
    typer.echo(
        f"batch {proposal.batch_id} proposed; apply with: perfect-catch suppliers apply "
        f"{proposal.batch_id}"
    )


def _run_batch(ctx: typer.Context, batch: str, action: str) -> None:
    from perfect_catch.connectors.http import ApiError
    from perfect_catch.integrations import cost_updates
    from perfect_catch.warehouse.engine import get_engine

    settings = _settings(ctx)
    if not settings.st_client_id:
        raise _fail("ServiceTitan is not configured (ST_CLIENT_ID, ST_CLIENT_SECRET, ST_APP_KEY)")
    run = cost_updates.apply if action == "apply" else cost_updates.rollback
    try:
        result = run(get_engine(settings), batch, cost_updates.client_factory(settings))
    except cost_updates.CostUpdateError as error:
        raise _fail(str(error)) from None
    except ApiError as error:
        raise _fail(f"ServiceTitan refused a change: {error}", code=1) from None
    typer.echo(result.line("applied" if action == "apply" else "restored"))


@app.command("apply")
def apply(ctx: typer.Context, batch: Annotated[str, typer.Argument(help="Batch id.")]) -> None:
    """Patch the batch's materials in ServiceTitan (cost and the supplier's vendor cost).
    Idempotent: what already has the new cost is left alone; old values are recorded."""
    _run_batch(ctx, batch, "apply")


@app.command("rollback")
def rollback(ctx: typer.Context, batch: Annotated[str, typer.Argument(help="Batch id.")]) -> None:
    """Restore the costs a batch replaced, as recorded when it was applied."""
    _run_batch(ctx, batch, "rollback")
