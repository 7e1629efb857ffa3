"""Polite fetching shared by the supplier clients: pace, robots.txt, retries, bot checks.

A supplier's site is shared with its human customers and its terms tolerate a shop's own
account fetching its prices only if it behaves: at most `requests_per_second` (default 0.5)
per supplier, never faster than robots.txt's `Crawl-delay`, never a path robots.txt disallows,
`Retry-After` honoured, transient errors retried with exponential backoff. A bot check is never
worked around: the run stops, and the supplier is left alone until the back-off has passed.
"""

from __future__ import annotations

import threading
import urllib.robotparser
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from perfect_catch.connectors.http import (
    CallStats,
    Clock,
    Redactor,
    RetryPolicy,
    retry_after_header,
)
from perfect_catch.connectors.suppliers.records import (
    BackingOffError,
    BotCheckError,
    RobotsDisallowedError,
    SupplierError,
)
from perfect_catch.connectors.suppliers.sessions import SessionStore

USER_AGENT = "PerfectCatch-PriceRefresh/1.0 (shop account price check)"
TRANSIENT = frozenset({500, 502, 503, 504})
#: How long a supplier is left alone after a bot check (doubles on each repeat, up to a day).
BOT_BACKOFF = timedelta(hours=1)
MAX_BOT_BACKOFF = timedelta(hours=24)

BotDetector = Callable[[httpx.Response], bool]


class PoliteClient:
    """An httpx session to one supplier: cookies kept, requests paced, robots.txt obeyed."""

    def __init__(
        self,
        supplier: str,
        base_url: str,
        *,
        requests_per_second: float = 0.5,
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        sessions: SessionStore,
        secrets: tuple[str, ...] = (),
        headers: Mapping[str, str] | None = None,
        is_bot_check: BotDetector | None = None,
        use_robots: bool = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if requests_per_second <= 0:
            raise ValueError("requests_per_second must be positive")
        self.supplier = supplier
        self.base_url = base_url.rstrip("/")
        self.interval = 1.0 / requests_per_second
        self.policy = policy or RetryPolicy(max_retries=4, base_delay=2.0, max_total_wait=120.0)
        self.clock = clock or Clock()
        self.sessions = sessions
        self.stats = CallStats()
        self.redact = Redactor(secrets)
        self._is_bot_check = is_bot_check or (lambda response: False)
        self._use_robots = use_robots
        self._robots: urllib.robotparser.RobotFileParser | None = None
        self._last_request: float | None = None
        self._lock = threading.Lock()
        self.http = httpx.Client(
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": USER_AGENT, **dict(headers or {})},
            follow_redirects=False,
            transport=transport,
        )

    def close(self) -> None:
        self.http.close()

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    # --- politeness ---------------------------------------------------------------------------

    def check_backoff(self) -> None:
        """Raise `BackingOffError` while an earlier bot check's back-off lasts."""
        until = self.sessions.backoff_until(self.supplier)
        if until is not None and until > datetime.now(UTC):
            raise BackingOffError(
                self.supplier,
                f"a bot check was met earlier; not fetching again before {until.isoformat()}",
            )

    def _pace(self) -> None:
        with self._lock:
            now = self.clock.monotonic()
            if self._last_request is not None:
                wait = self._last_request + self.interval - now
                if wait > 0:
                    self.clock.sleep(wait)
                    now = self.clock.monotonic()
            self._last_request = now

    def _robots_allow(self, path: str) -> None:
        if not self._use_robots:
            return
        if self._robots is None:
            parser = urllib.robotparser.RobotFileParser()
            response = self._send("GET", "/robots.txt", {}, check_robots=False)
            parser.parse(response.text.splitlines() if response.status_code == 200 else [])
            delay = parser.crawl_delay(USER_AGENT)
            if delay:
                self.interval = max(self.interval, float(delay))
            self._robots = parser
        # The base URL is the site's root (robots.txt lives there), so rules read `path`.
        if not self._robots.can_fetch(USER_AGENT, path):
            raise RobotsDisallowedError(self.supplier, f"robots.txt disallows {path}")

    def _bot_check(self, response: httpx.Response) -> None:
        previous = self.sessions.backoff_until(self.supplier)
        length = BOT_BACKOFF
        if previous is not None:
            length = min(MAX_BOT_BACKOFF, length * 2)
        until = datetime.now(UTC) + length
        self.sessions.set_backoff(self.supplier, until)
        raise BotCheckError(
            self.supplier,
            f"the site answered {httpx.URL(str(response.url)).path} with a bot check "
            f"(HTTP {response.status_code}); the run stops and the supplier is left alone "
            f"until {until.isoformat()}",
            until,
        )

    # --- requests -----------------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request politely; retry transient failures; stop at a bot check."""
        self._robots_allow(path.split("?", 1)[0])
        return self._send(method, path, kwargs, check_robots=True)

    def _send(
        self, method: str, path: str, kwargs: dict[str, Any], *, check_robots: bool
    ) -> httpx.Response:
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            self._pace()
            self.stats.api_calls += 1
            response: httpx.Response | None = None
            reason = ""
            try:
                response = self.http.request(method, self.url(path), **kwargs)
            except httpx.TransportError as exc:
                reason = f"transport error ({type(exc).__name__})"
            if response is not None:
                if self._is_bot_check(response):
                    self._bot_check(response)
                if response.status_code not in TRANSIENT and response.status_code != 429:
                    return response
                reason = f"HTTP {response.status_code}"
            if attempt > self.policy.max_retries:
                break
            delay = self.policy.backoff(attempt - 1, self.clock.random)
            if response is not None:
                hint = retry_after_header(response)
                if hint is not None:
                    delay = max(delay, hint)
            if waited + delay > self.policy.max_total_wait:
                break
            waited += delay
            self.stats.retries += 1
            self.stats.seconds_waiting += delay
            self.clock.sleep(delay)
        if response is not None and response.status_code == 429:
            self._bot_check(response)
        raise SupplierError(
            self.supplier,
            self.redact(
                f"{method} {path.split('?', 1)[0]} failed after {attempt} attempts: {reason}"
            ),
        )
