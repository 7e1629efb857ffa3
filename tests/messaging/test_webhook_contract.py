"""The receiver's contract, against `perfect-catch serve-webhooks` as operators run it.

A 200 MB unsigned (or wrongly signed) POST to `/ghl` or `/sendgrid/events` is refused and the
receiver's peak memory grows by less than 64 MB; a correctly signed Twilio inbound SMS whose body
holds a NUL character gets a 2xx or 4xx, never a 500; `/health` answers 200 afterwards.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from perfect_catch.simulators.server import SimulatorServer

MB = 1024 * 1024
BIG = 200 * MB
GROWTH_LIMIT = 64 * MB

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="peak memory is read from /proc"
)


def _peak_rss(pid: int) -> int:
    """The process's peak resident set size (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("VmHWM missing from /proc status")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _chunks(total: int) -> Iterator[bytes]:
    block = b"x" * MB
    for _ in range(total // MB):
        yield block


@pytest.fixture
def receiver(engine: sa.Engine, simulator: SimulatorServer) -> Iterator[tuple[str, int]]:
    port = _free_port()
    cli = Path(sys.executable).with_name("perfect-catch")
    process = subprocess.Popen(
        [str(cli), "serve-webhooks", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "WEBHOOK_PUBLIC_URL": ""},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"receiver did not start: {process.stderr.read()!r}")
            time.sleep(0.2)
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _refused(url: str, headers: dict[str, str], content: Iterator[bytes]) -> None:
    """The big POST is answered 4xx or its connection is closed; never accepted."""
    try:
        response = httpx.post(url, content=content, headers=headers, timeout=120)
    except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
        return
    assert 400 <= response.status_code < 500, (url, response.status_code)


def test_big_unsigned_posts_are_refused_without_buffering_and_nul_is_no_500(
    receiver: tuple[str, int], simulator: SimulatorServer
) -> None:
    base, pid = receiver
    twilio = simulator.system("twilio")
    url = f"{base}/twilio/inbound"
    warm = {"From": "+16025550142", "To": twilio.from_number, "Body": "hi", "MessageSid": "SM1a"}
    assert httpx.post(url, data=warm, headers={"X-Twilio-Signature": twilio.sign(url, warm)})
    assert httpx.post(f"{base}/ghl", content=b"{}", headers={"x-wh-signature": "AAAA"})
    before = _peak_rss(pid)

    length = {"Content-Length": str(BIG), "Content-Type": "application/json"}
    chunked = {"Content-Type": "application/json"}
    sendgrid_forged = {
        "X-Twilio-Email-Event-Webhook-Signature": "AAAA",
        "X-Twilio-Email-Event-Webhook-Timestamp": str(int(time.time())),
    }
    for path, forged in (
        ("/ghl", {"x-wh-signature": "AAAA"}),
        ("/sendgrid/events", sendgrid_forged),
    ):
        _refused(f"{base}{path}", length, _chunks(BIG))
        _refused(f"{base}{path}", chunked, _chunks(BIG))
        _refused(f"{base}{path}", {**chunked, **forged}, _chunks(BIG))
    grown = _peak_rss(pid) - before
    assert grown < GROWTH_LIMIT, f"peak memory grew by {grown / MB:.1f} MB"

    form = {
        "From": "+16025550142",
        "To": twilio.from_number,
        "Body": "STOP\x00 now",
        "MessageSid": "SM" + "ab" * 16,
    }
    signed = httpx.post(url, data=form, headers={"X-Twilio-Signature": twilio.sign(url, form)})
    assert signed.status_code < 500 and signed.status_code in range(200, 500)
    assert httpx.get(f"{base}/health").status_code == 200
