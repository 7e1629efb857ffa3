"""Running the simulator host: in a background thread (tests, demo) or in the foreground (CLI)."""

from __future__ import annotations

import gc
import importlib.util
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from types import TracebackType
from typing import Any, TextIO

import uvicorn
from starlette.applications import Starlette

from perfect_catch.simulators.app import build_app, system_env
from perfect_catch.simulators.faults import FaultConfig
from perfect_catch.simulators.system import SimulatedSystem

HOST = "127.0.0.1"
#: New containers between two young-generation collections while serving (default 700).
GC_THRESHOLD = 100_000


def _uvicorn_config(app: Starlette, sock_port: int) -> uvicorn.Config:
    """Quiet uvicorn on the fastest loop and HTTP parser that are installed."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return uvicorn.Config(
        app,
        host=HOST,
        port=sock_port,
        loop=loop,
        http=http,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
        # A request hanging on a 'timeout' fault must not hold up shutdown.
        timeout_graceful_shutdown=1,
    )


def _bind(port: int) -> socket.socket:
    """A listening-ready socket on 127.0.0.1:`port` (0: any free port), or a clear error."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise RuntimeError(f"cannot serve the simulators on {HOST}:{port}: {exc}") from exc
    return sock


class SimulatorServer:
    """All simulators on 127.0.0.1 in a background thread, as a context manager.

    `port=0` binds an ephemeral port; `.base_url` and `.env` carry the real one.
    """

    def __init__(
        self,
        seed: int = 1,
        size: str = "small",
        port: int = 0,
        faults: FaultConfig | None = None,
        systems: dict[str, SimulatedSystem] | None = None,
        anchor: date | str | None = None,
    ) -> None:
        self.app = build_app(
            seed=seed, size=size, faults=faults or FaultConfig(), systems=systems, anchor=anchor
        )
        self._requested_port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self.port: int = port

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return system_env(self.app.state.systems, self.base_url)

    def system(self, name: str) -> Any:
        """The in-process state of one system (ground truth and mutation driver)."""
        return self.app.state.systems[name].state

    def set_faults(self, **changes: object) -> FaultConfig:
        return self.app.state.faults.update(**changes)

    def start(self) -> SimulatorServer:
        sock = _bind(self._requested_port)
        self.port = sock.getsockname()[1]
        self._sock = sock
        self._server = uvicorn.Server(_uvicorn_config(self.app, self.port))
        server = self._server

        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="simulator-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("simulator server failed to start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """A young-generation collection threshold of at least `GC_THRESHOLD` while serving.

    Building one export page creates tens of thousands of dicts and lists; at the default
    threshold the collector runs every 700 of them and keeps rescanning the pages in flight.
    The records hold no reference cycles, so reference counting frees them all the same. Only
    one thread serves (uvicorn's event loop), so no other waits on it for the GIL. The
    thresholds found are restored on the way out, for a caller that goes on after `serve`.
    """
    saved = gc.get_threshold()
    gc.set_threshold(max(GC_THRESHOLD, saved[0]), *saved[1:])
    try:
        yield
    finally:
        gc.set_threshold(*saved)


def serve(
    port: int,
    seed: int = 1,
    size: str = "small",
    out: TextIO | None = None,
    anchor: date | str | None = None,
) -> None:
    """Serve all simulators on 127.0.0.1:`port` until interrupted.

    Before serving, prints one `KEY=value` line per setting a client needs, so a caller can
    `eval`/parse them; faults come from the `SIM_FAULT_*` environment variables.
    """
    stream = out or sys.stdout
    app = build_app(seed=seed, size=size, anchor=anchor)
    sock = _bind(port)
    real_port = sock.getsockname()[1]
    for key, value in system_env(app.state.systems, f"http://{HOST}:{real_port}").items():
        stream.write(f"{key}={value}\n")
    stream.flush()
    server = uvicorn.Server(_uvicorn_config(app, real_port))
    # What exists now lives as long as the server: keep it out of the collector's scans. The
    # records served are built and freed page by page (see `fewer_collections`).
    gc.freeze()
    try:
        with fewer_collections():
            server.run(sockets=[sock])
    finally:
        sock.close()
