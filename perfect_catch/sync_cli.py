"""The terminal front of a sync: progress bars and a summary over `warehouse.sync`."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from perfect_catch.connectors.http import ApiError
from perfect_catch.connectors.servicetitan import ServiceTitanClient
from perfect_catch.monitoring.recording import new_run_id
from perfect_catch.monitoring.watch import entity_monitor, safely
from perfect_catch.settings import Settings
from perfect_catch.warehouse.catalog import ENTITIES, get_entity
from perfect_catch.warehouse.engine import get_engine
from perfect_catch.warehouse.sync import PageProgress, SyncAlreadyRunning, SyncResult, sync_entity


def run_servicetitan_sync(
    settings: Settings,
    tenants: list[int],
    entities: list[str],
    *,
    full: bool,
    run_id: str | None = None,
) -> list[str]:
    """Sync `entities` (all when empty) of every tenant; print progress and a summary table.

    Returns the failures, one line each; a failure of one entity does not stop the others.
    Each entity's outcome is recorded by monitoring under `run_id` (default: a new CLI run id).
    """
    specs = [get_entity(name) for name in entities] if entities else list(ENTITIES)
    console = Console(stderr=True)
    results: list[SyncResult] = []
    failures: list[str] = []
    engine = get_engine(settings)
    monitor = entity_monitor(settings, engine)
    run_id = run_id or new_run_id("sync")
    columns = (
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[records]:>10,} records"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        overall = progress.add_task("entities", total=len(specs) * len(tenants), records=0)
        for tenant_id in tenants:
            with ServiceTitanClient.from_settings(settings, tenant_id) as client:
                for spec in specs:
                    task = progress.add_task(f"{tenant_id} {spec.name}", total=None, records=0)

                    def on_page(page: PageProgress, task: int = task) -> None:
                        progress.update(task, records=page.total_records)

                    try:
                        result = sync_entity(
                            engine, client, spec, tenant_id, full=full, on_page=on_page
                        )
                    except SyncAlreadyRunning as error:
                        failures.append(f"{tenant_id} {spec.name}: {error}")
                        progress.update(task, description=f"{tenant_id} {spec.name} FAILED")
                    except Exception as error:
                        safely(
                            settings,
                            lambda error=error, spec=spec, tenant_id=tenant_id: monitor.failure(
                                source="servicetitan",
                                error=error,
                                run_id=run_id,
                                tenant_id=tenant_id,
                                entity=spec.name,
                            ),
                        )
                        if not isinstance(error, ApiError):
                            raise
                        failures.append(f"{tenant_id} {spec.name}: {error}")
                        progress.update(task, description=f"{tenant_id} {spec.name} FAILED")
                    else:
                        results.append(result)
                        safely(
                            settings,
                            lambda result=result, spec=spec, tenant_id=tenant_id: monitor.success(
                                source="servicetitan",
                                run_id=run_id,
                                tenant_id=tenant_id,
                                entity=spec.name,
                                records=result.records,
                                rejected=result.rejected,
                            ),
                        )
                    progress.update(task, total=1, completed=1)
                    progress.advance(overall)
    _summary(console, results, failures)
    return failures


def _summary(console: Console, results: list[SyncResult], failures: list[str]) -> None:
    table = Table(title="sync summary")
    for name in (
        "tenant",
        "entity",
        "records",
        "inserted",
        "updated",
        "deleted",
        "rejected",
        "api calls",
        "retries",
        "seconds",
    ):
        table.add_column(name, justify="left" if name in ("tenant", "entity") else "right")
    for r in results:
        table.add_row(
            str(r.tenant_id),
            r.entity,
            f"{r.records:,}",
            f"{r.inserted:,}",
            f"{r.updated:,}",
            f"{r.deleted:,}",
            f"{r.rejected:,}",
            str(r.api_calls),
            str(r.retries),
            f"{r.seconds:.1f}",
        )
    console.print(table)
    for line in failures:
        console.print(f"[red]failed:[/red] {line}")
