"""`make demo`: the whole platform on one machine, against the simulators.

Starts (or reuses) the embedded PostgreSQL, brings the schema up to date, serves the simulators
in this process, loads a demo tenant with a first load that runs as Dagster runs (so the UI
shows materialized assets and successful runs from the first minute), and runs the Dagster
code server, UI and daemon with schedules and sensors switched on, every client pointed at the
simulators by base URL.

The Dagster processes are started here, as in production (a gRPC code server the webserver
and the daemon load through a workspace file), each in a process group of its own, so that
Ctrl-C or SIGTERM stops all of them and the runs they launched within seconds, and the
embedded PostgreSQL this command started is stopped cleanly after them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from rich.console import Console

from perfect_catch.settings import Settings, load_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Seconds the Dagster processes get to stop on SIGTERM before they are killed.
STOP_GRACE_SECONDS = 4.0
CODE_LOCATION = "perfect_catch"
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
    from perfect_catch.simulators.server import SimulatorServer
    from perfect_catch.warehouse import migrate
    from perfect_catch.warehouse.embedded import running_server, stop_server
    from perfect_catch.warehouse.engine import get_engine, safe_url, sqlalchemy_url
    from perfect_catch.workflows.definitions import WorkflowNotFoundError, set_enabled

    console = Console(stderr=True)
    stop = Shutdown()
    started_database = not settings.database_url and running_server(settings.home) is None
    with _stop_on_signals(stop):
        try:
            console.print(f"[bold]warehouse[/bold] {safe_url(sqlalchemy_url(settings))}")
            migrate.upgrade(get_engine(settings))
            with SimulatorServer(seed=seed, size=size, port=sim_port) as sim:
                console.print(f"[bold]simulators[/bold] {sim.base_url} (seed {seed}, size {size})")
                os.environ.update(sim.env)
                os.environ["SCHEDULES_DEFAULT_ON"] = "true"
                settings = load_settings()
                home = ensure_instance(settings)
                if not stop.is_set():
                    console.print("[bold]first load[/bold] as Dagster runs (every asset once)")
                    first_load(home, console, stop)
                    for name in DEMO_ENABLED_WORKFLOWS:
                        try:
                            set_enabled(get_engine(settings), name, True)
                        except WorkflowNotFoundError as error:  # the first load did not sync it
                            console.print(f"[red]workflow not enabled[/red]: {error}")
                if day_seconds > 0:
                    threading.Thread(
                        target=_business_days,
                        args=(sim.system("servicetitan"), day_seconds, stop, console),
                        name="demo-business-days",
                        daemon=True,
                    ).start()
                if stop.is_set():
                    return 0
                console.print(f"[bold]Dagster UI[/bold] http://127.0.0.1:{port}  (Ctrl-C to stop)")
                stop.graceful = True
                return run_dagster(home, port, stop, console)
        except KeyboardInterrupt:
            return 0
        finally:
            stop.set()
            _stop_children()
            if started_database:
                stop_server(settings.home)
                console.print("[bold]embedded PostgreSQL[/bold] stopped")
            if stop.at is not None:
                console.print(f"stopped {time.monotonic() - stop.at:.1f} s after the signal")


class Shutdown(threading.Event):
    """Set by SIGINT or SIGTERM. While the Dagster processes run (`graceful`), a signal only
    sets it and the supervisor stops them in order; before that (migrations, the first load)
    it also interrupts what the demo is doing, which a second signal always does."""

    graceful = False
    #: When the first signal arrived (monotonic seconds), to say how long stopping took.
    at: float | None = None


@contextmanager
def _stop_on_signals(stop: Shutdown) -> Iterator[None]:
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: object) -> None:
        again = stop.is_set()
        if not again:
            stop.at = time.monotonic()
        stop.set()
        if again or not stop.graceful:
            raise KeyboardInterrupt

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def exit_at_once(code: int) -> None:
    """End the demo's process now. Everything it started is stopped by the time `run_demo`
    returns; the interpreter's own shutdown would then wait several seconds on library threads
    (gRPC channels, the first load's log capture) that hold nothing of value."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _stop_children(grace: float = 1.0) -> None:
    """End what this process still has running (the first load's log watchers, helpers of the
    libraries it used): they would otherwise linger for seconds after the demo is gone."""
    import psutil

    children = psutil.Process().children(recursive=True)
    for child in children:
        with suppress(psutil.NoSuchProcess):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=grace)
    for child in alive:
        with suppress(psutil.NoSuchProcess):
            child.kill()


def first_load(home: Path, console: Console, stop: threading.Event | None = None) -> bool:
    """Materialize every asset once through Dagster, in this instance: each tenant's
    ServiceTitan sync, then everything else (GoHighLevel, CallRail, dbt, workflows) in one run.
    Returns whether every run succeeded; a failure is reported and the demo goes on."""
    import dagster as dg

    from perfect_catch.definitions import defs
    from perfect_catch.tenants import TENANT_TAG

    definitions = defs()
    graph = definitions.resolve_asset_graph()
    job = definitions.resolve_implicit_global_asset_job_def()
    partitioned = [k for k in graph.materializable_asset_keys if graph.get(k).partitions_def]
    rest = [k for k in graph.materializable_asset_keys if not graph.get(k).partitions_def]
    ok = True
    with dg.DagsterInstance.from_config(str(home)) as instance:
        plan: list[tuple[str, str | None, list[dg.AssetKey], dict[str, str]]] = [
            (f"servicetitan tenant {tenant}", tenant, partitioned, {TENANT_TAG: tenant})
            for tenant in instance.get_dynamic_partitions("servicetitan_tenant")
        ]
        plan.append(("integrations, dbt and workflows", None, rest, {}))
        for label, partition, keys, tags in plan:
            if stop is not None and stop.is_set():
                return False
            result = job.execute_in_process(
                instance=instance,
                asset_selection=keys,
                partition_key=partition,
                tags={"perfect_catch/first_load": "true", **tags},
                # The steps' progress goes to the UI's run view; the console keeps one line a run.
                run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
                raise_on_error=False,
            )
            state = "[green]success[/green]" if result.success else "[red]failure[/red]"
            console.print(f"  {label}: run {result.run_id[:8]} {state}")
            ok = ok and result.success
    return ok


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dagster_commands(home: Path, port: int) -> dict[str, list[str]]:
    """The code server (gRPC), the webserver and the daemon, as compose runs them; writes the
    workspace file that points the latter two at the code server."""
    bin_dir = Path(sys.executable).parent
    grpc_port = _free_port()
    workspace = home / "workspace.yaml"
    workspace.write_text(
        "load_from:\n"
        "  - grpc_server:\n"
        f"      host: 127.0.0.1\n      port: {grpc_port}\n"
        f"      location_name: {CODE_LOCATION}\n"
    )
    return {
        "code server": [
            str(bin_dir / "dagster"),
            *("code-server", "start", "-h", "127.0.0.1", "-p", str(grpc_port)),
            *("-m", "perfect_catch.definitions", "--location-name", CODE_LOCATION),
        ],
        "webserver": [
            str(bin_dir / "dagster-webserver"),
            *("-h", "127.0.0.1", "-p", str(port), "-w", str(workspace)),
        ],
        "daemon": [str(bin_dir / "dagster-daemon"), "run", "-w", str(workspace)],
    }


def run_dagster(
    home: Path, port: int, stop: threading.Event | None = None, console: Console | None = None
) -> int:
    """Run the code server, webserver and daemon until `stop` is set (Ctrl-C, SIGTERM) or one
    of them exits; then stop all of them, each with its process group (the runs it launched):
    SIGTERM, and SIGKILL for what is left after STOP_GRACE_SECONDS."""
    stop = stop or threading.Event()
    console = console or Console(stderr=True)
    processes: dict[str, subprocess.Popen] = {}
    env = dagster_env(home)
    try:
        commands = dagster_commands(home, port)
        for name, command in commands.items():
            processes[name] = subprocess.Popen(command, env=env, process_group=0)
            if name == "code server":  # the UI and the daemon start once it answers
                grpc_port = int(command[command.index("-p") + 1])
                if not _wait_for_code_server(grpc_port, processes[name], stop):
                    return 0 if stop.is_set() else 1
        while not stop.wait(0.5):
            ended = {name: p.returncode for name, p in processes.items() if p.poll() is not None}
            if ended:
                console.print(f"[red]stopped on its own[/red]: {ended}")
                return 1
        return 0
    finally:
        console.print("[bold]stopping[/bold] Dagster (code server, webserver, daemon, runs)")
        stop_process_groups(list(processes.values()), STOP_GRACE_SECONDS)


def _wait_for_code_server(grpc_port: int, process: subprocess.Popen, stop: threading.Event) -> bool:
    """Whether the code server answered its gRPC health check before it exited or `stop`."""
    from dagster._grpc.client import DagsterGrpcClient

    client = DagsterGrpcClient(port=grpc_port, host="127.0.0.1")
    while process.poll() is None and not stop.is_set():
        try:
            if client.health_check_query() == "SERVING":
                return True
        except Exception:  # not listening yet: what a health check before start answers
            pass
        stop.wait(0.5)
    return False


def serve_dagster(home: Path, port: int) -> int:
    """`run_dagster` until Ctrl-C or SIGTERM (`perfect-catch ui`)."""
    stop = Shutdown()
    stop.graceful = True
    with _stop_on_signals(stop):
        return run_dagster(home, port, stop)


def stop_process_groups(processes: list[subprocess.Popen], grace: float) -> None:
    """SIGTERM every process's group, wait up to `grace` seconds, SIGKILL what is left."""
    for process in processes:
        _signal_group(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
    for process in processes:
        _signal_group(process.pid, signal.SIGKILL)  # also the group's leftovers (run workers)
        process.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pgid, sig)


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
