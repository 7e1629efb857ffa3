"""Webhook receiver under over-size posts: peak memory growth and time to refusal.

    .venv/bin/python tests/benchmarks/bench_webhook_memory.py [--megabytes 200] [--rounds 3]

Starts `perfect-catch serve-webhooks` as operators run it (a lazily connected database URL: a
refused post never reaches the database), warms it with one small post per route, then sends
`--megabytes` of body to `/ghl` and `/sendgrid/events` `--rounds` times each way: announced by
Content-Length without a signature, and chunked with a forged signature (the body is read up
to WEBHOOK_MAX_BODY_BYTES, then refused). Prints the receiver's peak RSS growth (VmHWM, Linux)
and the seconds until each refusal.

Not part of the test suite (pytest ignores tests/benchmarks).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

MB = 1024 * 1024


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


def chunks(total: int) -> Iterator[bytes]:
    block = b"x" * MB
    for _ in range(total // MB):
        yield block


def refuse(url: str, headers: dict[str, str], size: int) -> str:
    try:
        return str(httpx.post(url, content=chunks(size), headers=headers, timeout=300).status_code)
    except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
        return "closed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    size = args.megabytes * MB
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cli = Path(sys.executable).with_name("perfect-catch")
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql://bench@127.0.0.1:9/none",
        "PERFECT_CATCH_ENV_FILE": os.devnull,
    }
    process = subprocess.Popen(
        [str(cli), "serve-webhooks", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        for path in ("/ghl", "/sendgrid/events"):
            httpx.post(f"{base}{path}", content=b"[]", headers={"x-wh-signature": "AAAA"})
        start = peak_rss(process.pid)
        forged = {
            "/ghl": {"x-wh-signature": "AAAA"},
            "/sendgrid/events": {
                "X-Twilio-Email-Event-Webhook-Signature": "AAAA",
                "X-Twilio-Email-Event-Webhook-Timestamp": str(int(time.time())),
            },
        }
        print(f"receiver peak RSS after warm-up: {start / MB:.1f} MB")
        print(f"{'route':<18} {'mode':<26} {'answer':<8} {'seconds':>8}")
        for path in ("/ghl", "/sendgrid/events"):
            for mode, headers in (
                ("Content-Length, unsigned", {"Content-Length": str(size)}),
                ("chunked, forged signature", forged[path]),
            ):
                for _ in range(args.rounds):
                    began = time.perf_counter()
                    answer = refuse(f"{base}{path}", headers, size)
                    took = time.perf_counter() - began
                    print(f"{path:<18} {mode:<26} {answer:<8} {took:>8.3f}")
        grown = peak_rss(process.pid) - start
        print(f"peak RSS growth over all {args.megabytes} MB posts: {grown / MB:.1f} MB")
    finally:
        process.terminate()
        process.wait(timeout=20)


if __name__ == "__main__":
    main()
