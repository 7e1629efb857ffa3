"""The webhook receiver exactly as compose starts it: its command line from compose.yaml,
run as a process, accepts a signed Twilio STOP and records the opt-out; a forged one is refused."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import sqlalchemy as sa
from deploy_files import compose
from twilio.request_validator import RequestValidator

TOKEN = "compose-test-twilio-token"
CUSTOMER = "+14805550123"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _command(port: int) -> list[str]:
    """The compose command, bound to loopback on a free port instead of 0.0.0.0:8080."""
    argv = list(compose()["services"]["webhooks"]["command"])
    argv[argv.index("--host") + 1] = "127.0.0.1"
    argv[argv.index("--port") + 1] = str(port)
    assert argv[0] == "perfect-catch"
    return [str(Path(sys.executable).with_name("perfect-catch")), *argv[1:]]


def test_the_compose_webhook_receiver_records_a_signed_stop(
    engine: sa.Engine, database_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "WEBHOOK_PUBLIC_URL": base,
        "PERFECT_CATCH_ENV_FILE": os.devnull,
        "PERFECT_CATCH_HOME": str(tmp_path),
    }
    process = subprocess.Popen(
        _command(port), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            assert time.monotonic() < deadline, "the receiver did not start"
            time.sleep(0.3)
        url = f"{base}/twilio/inbound"
        form = {
            "From": CUSTOMER,
            "To": "+14805550100",
            "Body": "STOP",
            "MessageSid": "SM" + "1" * 32,
        }
        forged = RequestValidator("another-token").compute_signature(url, form)
        assert httpx.post(url, data=form, headers={"X-Twilio-Signature": forged}).status_code == 403
        signature = RequestValidator(TOKEN).compute_signature(url, form)
        response = httpx.post(url, data=form, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200, response.text
    finally:
        process.terminate()
        process.wait(timeout=20)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("select channel, address, opted_out from automation.messaging_opt_outs")
        ).all()
    assert [(r.channel, r.address, r.opted_out) for r in rows] == [("sms", CUSTOMER, True)]
