"""Running the dbt project from plain Python: `dbt build` for the CLI, `run-once` and tests.

By default dbt runs as a subprocess (the `dbt` next to this interpreter) with the warehouse
connection in its environment (`dbt_env`), so dbt's global state never leaks into the caller and
the outcome comes from `run_results.json`. `in_process=True` runs dbt's Python API instead, with
the project parsed once per process: starting and parsing dbt costs far more than building this
project on a small warehouse, which matters to tests that build many times.

A subprocess pays for starting dbt on every build. To keep that start short, each database gets
its own target directory under `target/runner/`, so dbt's partial parsing
(`partial_parse.msgpack`, which is only valid for the connection it was parsed with, because every
node records its database) is reused by every later build of that database instead of the project
being parsed again whenever a build of another database came in between; and dbt's few thousand
modules load from the bytecode `make install` compiles into the virtualenv, not from source, even
where the environment forbids writing bytecode.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfect_catch.settings import Settings
from perfect_catch.warehouse.dbt_env import PROJECT_DIR, RUN_DEFAULTS, applied, dbt_env, env_for_url

MANIFEST = PROJECT_DIR / "target" / "manifest.json"
RUN_TARGET = PROJECT_DIR / "target" / "runner"
"""Where builds write their artifacts, one directory per database (`run_target`): apart from
`target/manifest.json`, which Dagster loads and which a build against some database must not
replace while a code location reads it."""


class DbtError(RuntimeError):
    """A dbt invocation failed; the message names the failing nodes and what dbt said."""


@dataclass(frozen=True)
class NodeResult:
    """One model, test, seed or snapshot of an invocation."""

    unique_id: str
    status: str
    seconds: float
    message: str | None
    failures: int | None


@dataclass(frozen=True)
class DbtResult:
    """What one dbt invocation did."""

    args: tuple[str, ...]
    returncode: int
    seconds: float
    nodes: tuple[NodeResult, ...] = ()
    output: str = field(default="", repr=False)

    @property
    def success(self) -> bool:
        return self.returncode == 0

    @property
    def failed(self) -> tuple[NodeResult, ...]:
        return tuple(n for n in self.nodes if n.status in ("error", "fail", "runtime error"))

    def node(self, name: str) -> NodeResult:
        """The result of the node whose unique id ends with `.name`."""
        for result in self.nodes:
            if result.unique_id.endswith(f".{name}"):
                return result
        raise KeyError(f"no dbt node named {name!r} in this invocation")

    def check(self) -> DbtResult:
        """Self, or a `DbtError` naming each failing node and dbt's message."""
        if self.success:
            return self
        lines = [f"{n.unique_id}: {n.status}: {n.message}" for n in self.failed]
        if not lines:
            lines = self.output.strip().splitlines()[-15:]
        raise DbtError(f"dbt {' '.join(self.args[:1])} failed:\n" + "\n".join(lines))


def dbt_executable() -> str:
    """The `dbt` installed beside this interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    if beside.exists():
        return str(beside)
    found = shutil.which("dbt")
    if found is None:
        raise DbtError("the dbt executable is not installed (pip install dbt-postgres)")
    return found


def _nodes(target_path: Path) -> tuple[NodeResult, ...]:
    path = target_path / "run_results.json"
    if not path.exists():
        return ()
    data = json.loads(path.read_text())
    return tuple(
        NodeResult(
            unique_id=r["unique_id"],
            status=r["status"],
            seconds=float(r.get("execution_time") or 0.0),
            message=r.get("message"),
            failures=r.get("failures"),
        )
        for r in data.get("results", [])
    )


_lock = threading.Lock()
_manifests: dict[tuple[Path, str, str], Any] = {}


def _invoke_in_process(args: Sequence[str], env: Mapping[str, str], target: Path) -> DbtResult:
    """`dbt <args>` through dbt's Python API, reusing this process's parsed manifest.

    A manifest names the database it was parsed for, so there is one per (host, database).
    """
    from dbt.cli.main import dbtRunner

    paths = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    started = time.monotonic()
    with _lock, applied(env):
        key = (target, env["PC_DBT_HOST"], env["PC_DBT_DBNAME"])
        manifest = _manifests.get(key)
        if manifest is None:
            parsed = dbtRunner().invoke(["parse", "--quiet", *paths, "--target-path", str(target)])
            if not parsed.success:
                raise DbtError(f"dbt parse failed: {parsed.exception}")
            manifest = _manifests[key] = parsed.result
        outcome = dbtRunner(manifest=manifest).invoke(
            [*args, *paths, "--target-path", str(target), "--quiet"]
        )
    return DbtResult(
        args=tuple(args),
        returncode=0 if outcome.success else 1,
        seconds=time.monotonic() - started,
        nodes=_nodes(target),
        output=str(outcome.exception or ""),
    )


def run_target(env: Mapping[str, str]) -> Path:
    """The target directory of builds on the database `env` (`PC_DBT_*`) connects to."""
    where = f"{env['PC_DBT_HOST']}:{env['PC_DBT_PORT']}/{env['PC_DBT_USER']}"
    digest = hashlib.sha1(where.encode()).hexdigest()[:8]
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", env["PC_DBT_DBNAME"])
    return RUN_TARGET / f"{name}-{digest}"


PARTIAL_PARSE = "partial_parse.msgpack"


@contextmanager
def dagster_target(env: Mapping[str, str], run_id: str) -> Iterator[Path]:
    """A fresh target directory for one dbt build started by Dagster on the database of `env`.

    It starts with the partial parse last saved for that database (`run_target(env)`), so dbt
    skips parsing the whole project, which Dagster's own copy of `target/partial_parse.msgpack`
    — parsed for another connection — would not allow; dbt's refreshed parse is saved back
    afterwards. The directory is removed once the build is done: the event lane builds every 30
    seconds and would otherwise leave a manifest behind each time.
    """
    saved = run_target(env) / PARTIAL_PARSE
    target = RUN_TARGET / "dagster" / f"{run_id[:8]}-{uuid.uuid4().hex[:8]}"
    target.mkdir(parents=True)
    try:
        if saved.exists():
            shutil.copyfile(saved, target / PARTIAL_PARSE)
        yield target
        fresh = target / PARTIAL_PARSE
        if fresh.exists():
            saved.parent.mkdir(parents=True, exist_ok=True)
            staged = saved.with_name(f"{PARTIAL_PARSE}.{uuid.uuid4().hex[:8]}")
            shutil.copyfile(fresh, staged)
            os.replace(staged, saved)
    finally:
        shutil.rmtree(target, ignore_errors=True)


def invoke(
    args: Sequence[str],
    settings: Settings,
    *,
    url: str | None = None,
    target_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    in_process: bool = False,
) -> DbtResult:
    """Run `dbt <args>` on the project against `url` (default: the configured warehouse)."""
    return _invoke(
        args, dbt_env(settings, url), target_path=target_path, env=env, in_process=in_process
    )


def _invoke(
    args: Sequence[str],
    connection: Mapping[str, str],
    *,
    target_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    in_process: bool = False,
) -> DbtResult:
    target = Path(target_path) if target_path else run_target(connection)
    run_results = target / "run_results.json"
    run_results.unlink(missing_ok=True)
    if in_process:
        return _invoke_in_process(args, {**connection, **(env or {})}, target)
    full_env = {
        **os.environ,
        **connection,
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_PROJECT_DIR": str(PROJECT_DIR),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(target),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **(env or {}),
    }
    started = time.monotonic()
    proc = subprocess.run(
        [dbt_executable(), *args],
        cwd=PROJECT_DIR,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
    )
    return DbtResult(
        args=tuple(args),
        returncode=proc.returncode,
        seconds=time.monotonic() - started,
        nodes=_nodes(target),
        output=proc.stdout + proc.stderr,
    )


def _selection_args(
    select: str | Sequence[str] | None, exclude: str | Sequence[str] | None
) -> list[str]:
    out: list[str] = []
    for flag, value in (("--select", select), ("--exclude", exclude)):
        if value:
            out += [flag, *([value] if isinstance(value, str) else value)]
    return out


def build(
    settings: Settings,
    select: str | Sequence[str] | None = None,
    full_refresh: bool = False,
    vars: Mapping[str, Any] | None = None,
    *,
    exclude: str | Sequence[str] | None = None,
    url: str | None = None,
    target_path: Path | None = None,
    in_process: bool = False,
) -> DbtResult:
    """`dbt build` (models and their tests) on the warehouse; check `.success` or `.check()`.

    `vars` are dbt vars, e.g. `{"as_of": "2025-06-03T15:00:00Z"}` to evaluate time-based events
    at another instant, or `{"overdue_thresholds_days": [3, 10]}`.
    """
    args = ["build", *_selection_args(select, exclude)]
    if full_refresh:
        args.append("--full-refresh")
    if vars:
        args += ["--vars", json.dumps(dict(vars))]
    return invoke(args, settings, url=url, target_path=target_path, in_process=in_process)


def parse(target_path: Path | None = None) -> DbtResult:
    """`dbt parse`: writes `target/manifest.json` without touching the database."""
    args = ["parse", "--quiet"]
    target = target_path or MANIFEST.parent
    # Parsing reads no data: any connection will do, and the project's own defaults stand in for
    # the settings' variables.
    connection = {**RUN_DEFAULTS, **env_for_url("postgresql://postgres@localhost/postgres")}
    return _invoke(args, connection, target_path=target)


_SOURCES = ("dbt_project.yml", "profiles.yml", "models", "macros", "tests", "seeds", "snapshots")


def manifest_is_stale() -> bool:
    """Whether `target/manifest.json` is missing or older than a file of the project."""
    if not MANIFEST.exists():
        return True
    built = MANIFEST.stat().st_mtime
    for name in _SOURCES:
        path = PROJECT_DIR / name
        files = path.rglob("*") if path.is_dir() else [path] if path.exists() else []
        if any(f.is_file() and f.stat().st_mtime > built for f in files):
            return True
    return False


def ensure_manifest() -> Path:
    """The project's manifest, parsed first when it is missing or older than the project."""
    if manifest_is_stale():
        parse().check()
    return MANIFEST
