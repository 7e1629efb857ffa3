"""`perfect-catch instance ...`: preparing a deployed Dagster instance, once per release.

A container deployment has no CLI start-up to set the concurrency pool limits (`make demo`
sets them in `ensure_instance`), so unset pools would run at the instance's default limit: the
`migrate` service (compose) or job (Kubernetes) runs `perfect-catch instance setup`, which
brings the warehouse schema and Dagster's storage up to date and sets every pool the code uses.
Each step is idempotent.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from perfect_catch.settings import SettingsError, load_settings

instance_app = typer.Typer(
    help="The deployed Dagster instance (DAGSTER_HOME): schema, pool limits, tenants.",
    no_args_is_help=True,
)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


@instance_app.command("setup")
def setup(
    warehouse: Annotated[
        bool, typer.Option(help="Also apply the warehouse migrations (Alembic).")
    ] = True,
) -> None:
    """Apply the warehouse migrations, create or upgrade Dagster's storage, set every
    concurrency pool limit and register the configured tenants. Safe to run again."""
    import dagster as dg
    import sqlalchemy as sa

    from perfect_catch.instance import (
        DAGSTER_DATABASE,
        apply_pool_limits,
        ensure_database,
        register_tenants,
    )

    try:
        settings = load_settings()
    except SettingsError as error:
        raise _fail(str(error)) from None
    if warehouse:
        from perfect_catch.warehouse import migrate
        from perfect_catch.warehouse.engine import get_engine

        engine = get_engine(settings)
        migrate.upgrade(engine)
        typer.echo(f"warehouse at {migrate.current_revision(engine)}")
    storage = os.environ.get("DAGSTER_DATABASE_URL")
    if storage:
        # Dagster's storage keeps its own Alembic history: it needs a database of its own.
        database = sa.make_url(storage).database or DAGSTER_DATABASE
        ensure_database(storage, database)
        typer.echo(f"dagster storage database {database}")
    try:
        instance = dg.DagsterInstance.get()
    except dg.DagsterInvariantViolationError as error:
        raise _fail(f"DAGSTER_HOME: {error}") from None
    with instance:
        instance.upgrade()
        for pool, limit in apply_pool_limits(instance).items():
            typer.echo(f"pool {pool}: {limit}")
        try:
            added = register_tenants(instance, settings)
        except SettingsError as error:
            raise _fail(str(error)) from None
        typer.echo(f"tenants added: {', '.join(added) or 'none'}")


@instance_app.command("pools")
def pools() -> None:
    """Print every concurrency pool the code uses with its limit in the instance."""
    import dagster as dg

    from perfect_catch.instance import API_POOLS

    with dg.DagsterInstance.get() as instance:
        for pool, wanted in API_POOLS.items():
            info = instance.event_log_storage.get_concurrency_info(pool)
            typer.echo(f"{pool}: {info.slot_count} (wanted {wanted})")
