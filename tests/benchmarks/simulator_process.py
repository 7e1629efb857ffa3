"""The simulators in a process of their own, for the benchmarks: as in production, the APIs the
platform calls are elsewhere, not threads of the process being measured."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping

import httpx

# `perfect-catch simulate` with the large tenant scaled to argv[1] customers.
_SCALED = (
    "import sys; from perfect_catch.simulators.servicetitan import universe; "
    "universe.CUSTOMER_TARGET['large'] = int(sys.argv.pop(1)); "
    "from perfect_catch.cli import app; app(prog_name='perfect-catch')"
)


def start_simulator(
    size: str, seed: int, env: Mapping[str, str] | None = None, customers: int | None = None
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """`perfect-catch simulate` on a free port; the process and the environment it prints.
    `customers` scales the `large` tenant (everything else in proportion)."""
    command = ["-m", "perfect_catch.cli"] if customers is None else ["-c", _SCALED, str(customers)]
    proc = subprocess.Popen(
        [sys.executable, *command, "simulate", "--port", "0"]
        + ["--size", size, "--seed", str(seed)],
        stdout=subprocess.PIPE,
        text=True,
        env=None if env is None else dict(env),
    )
    assert proc.stdout is not None
    first: dict[str, str] = {}
    while "SIMULATOR_URL" not in first:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the simulator exited before printing its environment")
        key, _, value = line.strip().partition("=")
        first[key] = value
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            return proc, httpx.get(first["SIMULATOR_URL"] + "/_admin/env", timeout=2).json()
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the simulator does not answer")
