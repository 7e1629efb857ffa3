"""`make demo`: the whole platform on one machine, against the simulators.

Starts (or reuses) the embedded PostgreSQL, brings the schema up to date, serves the simulators
in this process, loads a demo tenant with a first sync, and runs the Dagster UI and daemon with
schedules and sensors switched on, every client pointed at the simulators by base URL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from rich.console import Console

from perfect_catch.settings import Settings, load_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_ENABLED_WORKFLOWS = ("booking_confirmation", "invoice_email")
"""Workflows shipped disabled (a shop may already do this from ServiceTitan) that the demo
switches on, so every event type has something to show."""


def run_demo(
    settings: Settings,
    *,
    port: int,
    sim_port: int,
    seed: int,
    size: str,
    day_seconds: float = 300,
) -> int:
    """Run the demo on the warehouse `settings` name; once the simulators are up, the settings
    are read again with every client pointed at them."""
    from perfect_catch.instance import ensure_instance
    from perfect_catch.run_once import run_once
    from perfect_catch.simulators.server import SimulatorServer
    from perfect_catch.warehouse import migrate
    from perfect_catch.warehouse.engine import get_engine, safe_url, sqlalchemy_url
    from perfect_catch.workflows.definitions import set_enabled

    console = Console(stderr=True)
    console.print(f"[bold]warehouse[/bold] {safe_url(sqlalchemy_url(settings))}")
    migrate.upgrade(get_engine(settings))
    with SimulatorServer(seed=seed, size=size, port=sim_port) as sim:
        console.print(f"[bold]simulators[/bold] {sim.base_url} (seed {seed}, size {size})")
        os.environ.update(sim.env)
        os.environ["SCHEDULES_DEFAULT_ON"] = "true"
        settings = load_settings()
        console.print("[bold]loading the demo tenant[/bold] (every stage once)")
        run_once(settings, console)
        for name in DEMO_ENABLED_WORKFLOWS:
            set_enabled(get_engine(settings), name, True)
        home = ensure_instance(settings)
        console.print(f"[bold]Dagster UI[/bold] http://127.0.0.1:{port}  (Ctrl-C to stop)")
        stop = threading.Event()
        if day_seconds > 0:
            driver = threading.Thread(
                target=_business_days,
                args=(sim.system("servicetitan"), day_seconds, stop, console),
                name="demo-business-days",
                daemon=True,
            )
            driver.start()
        try:
            return subprocess.call(dagster_dev_command(port), env=dagster_env(home))
        except KeyboardInterrupt:
            return 0
        finally:
            stop.set()


def _business_days(state, every: float, stop: threading.Event, console: Console) -> None:
    """Simulate a ServiceTitan business day every `every` seconds, so the schedules and sensors
    of the demo have new and changed records to move (customers, jobs, estimates sold or
    dismissed, invoices paid or overdue)."""
    while not stop.wait(every):
        try:
            changes = state.simulate_business_day()
        except Exception as error:  # the demo keeps running; the console says what happened
            console.print(f"[red]business day failed[/red]: {error}")
            continue
        console.print(f"[bold]simulated business day[/bold]: {sum(changes.values())} changes")


def dagster_dev_command(port: int) -> list[str]:
    """`dagster dev` on this project's workspace: webserver and daemon on 127.0.0.1."""
    dagster = str(Path(sys.executable).with_name("dagster"))
    workspace = str(PROJECT_ROOT / "workspace.yaml")
    return [dagster, "dev", "-w", workspace, "-p", str(port), "-h", "127.0.0.1"]


def dagster_env(home: Path) -> dict[str, str]:
    """The environment of Dagster's processes: this instance, and this virtualenv's tools
    (dbt, dagster) first on PATH even when the virtualenv is not activated."""
    bin_dir = str(Path(sys.executable).parent)
    path = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])
    return {**os.environ, "DAGSTER_HOME": str(home), "PATH": path}
