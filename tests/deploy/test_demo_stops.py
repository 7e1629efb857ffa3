"""`make demo` (`perfect-catch demo`) as a user runs it: started in a session of its own like a
terminal's, stopped with Ctrl-C (SIGINT to its process group), it leaves no process behind —
not the code server, UI, daemon or runs, not the embedded PostgreSQL — and a second demo on the
same home starts cleanly and stops on SIGTERM alike. Its first load is recorded as Dagster runs."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

pytestmark = pytest.mark.timeout(1200)

#: How long the processes get to be gone after the signal (the demo gives its children 6 s).
STOP_WAIT_SECONDS = 20


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _session(sid: int) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["pid"]):
        try:
            if os.getsid(process.pid) == sid:
                found.append(process)
        except (ProcessLookupError, PermissionError):
            continue
    return found


def _postgres_of(home: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if "postgres" in cmdline and str(home) in cmdline:
            found.append(process)
    return found


def _start(home: Path, log: Path) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    command = [
        str(Path(sys.executable).with_name("perfect-catch")),
        *("demo", "--size", "small", "--day-seconds", "0"),
        *("--port", str(port), "--sim-port", str(_free_port())),
    ]
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DAGSTER_HOME")},
        "PERFECT_CATCH_HOME": str(home),
        "PERFECT_CATCH_ENV_FILE": os.devnull,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 600
    while True:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=3).status_code == 200:
                return process, port
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the demo's UI did not come up"
        time.sleep(2)


def _stopped(process: subprocess.Popen, home: Path) -> list[psutil.Process]:
    process.wait(timeout=STOP_WAIT_SECONDS)
    deadline = time.monotonic() + STOP_WAIT_SECONDS
    while (left := _session(process.pid) + _postgres_of(home)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


def _first_load_runs(home: Path) -> list[str]:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        records = instance.get_run_records(dg.RunsFilter(tags={"perfect_catch/first_load": "true"}))
        return [record.dagster_run.status.value for record in records]


@pytest.fixture
def home() -> Iterator[Path]:
    """A PERFECT_CATCH_HOME the embedded server's own user can enter (not pytest's tmp_path,
    whose parents are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="pc-demo-test-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_the_demo_stops_on_ctrl_c_and_sigterm_leaving_no_process(
    home: Path, tmp_path: Path
) -> None:
    process, _ = _start(home, tmp_path / "first.log")
    children = [p.pid for p in _session(process.pid) if p.pid != process.pid]
    assert len(children) >= 3  # code server, webserver, daemon (and their helpers)
    assert _postgres_of(home)

    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole group
    left = _stopped(process, home)
    assert not left, [p.cmdline() for p in left if p.is_running()]
    log = (tmp_path / "first.log").read_text()
    assert "Deprecat" not in log and "SupersessionWarning" not in log

    # A second demo on the same home starts cleanly; its first load ran as Dagster runs.
    process, _ = _start(home, tmp_path / "second.log")
    statuses = _first_load_runs(home)  # read while its PostgreSQL is up
    # Each demo loaded the tenant and then everything else: four successful runs.
    assert statuses.count("SUCCESS") == 4, statuses
    process.send_signal(signal.SIGTERM)  # a service manager stops the main process only
    left = _stopped(process, home)
    assert not left, [p.cmdline() for p in left if p.is_running()]
