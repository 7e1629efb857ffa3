"""The embedded PostgreSQL is started once per PERFECT_CATCH_HOME and shared by processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from perfect_catch.warehouse.embedded import EmbeddedServer, running_server, stop_server

PROBE = (
    "import json, sys\n"
    "from pathlib import Path\n"
    "from perfect_catch.warehouse.embedded import ensure_server\n"
    "import psycopg\n"
    "s = ensure_server(Path(sys.argv[1]))\n"
    "with psycopg.connect(s.uri) as c:\n"
    "    backend = c.execute('select pg_postmaster_start_time()::text').fetchone()[0]\n"
    "print(json.dumps({'pid': s.pid, 'started': backend}))\n"
)


def _probe(home: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", PROBE, str(home)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )


def _result(proc: subprocess.Popen[str]) -> dict:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_second_process_reuses_running_server(pg_server: EmbeddedServer, pg_home: Path) -> None:
    seen = _result(_probe(pg_home))
    assert seen["pid"] == pg_server.pid
    assert running_server(pg_home) == pg_server


def test_two_processes_starting_at_once_share_one_server() -> None:
    # Not under pytest's tmp_path: run as root, the server runs as another user, and any pytest
    # session starting meanwhile (one of another checkout) takes that user's access to pytest's
    # temporary root away again.
    home = Path(tempfile.mkdtemp(prefix="pc-test-")) / "home"
    try:
        try:
            first, second = _probe(home), _probe(home)
            a, b = _result(first), _result(second)
            assert a["pid"] == b["pid"]
            assert a["started"] == b["started"]
            found = running_server(home)
            assert found is not None and found.pid == a["pid"]
        finally:
            assert stop_server(home) is True
        assert running_server(home) is None
    finally:
        shutil.rmtree(home.parent, ignore_errors=True)
