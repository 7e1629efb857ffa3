"""Resilience shared by every API client: retries, backoff, call statistics, secret-free errors.

Providers throttle (429), fail transiently (5xx) and time out. A sync that gives up on the first
hiccup leaves gaps, and one that retries too eagerly gets throttled harder, so every client goes
through `ResilientClient`: it retries with exponential backoff and full jitter, never waits less
than the provider asked for, and gives up after a configured number of retries or total wait.

Each provider words its errors differently, so the error body is parsed by a hook the provider's
client supplies (`ErrorFactory`). Whatever the hook builds, known secrets are scrubbed from it and
the exception carries only the method and URL path, never headers or query strings: a traceback
in a log or a run's metadata must not leak a token, client secret or app key.
"""

from __future__ import annotations

import email.utils
import random
import re
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Self

import httpx

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})

# Errors raised before the request reached the server: safe to retry for any method.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

_SECONDS_IN_TEXT = re.compile(r"(\d+(?:\.\d+)?)\s*seconds?\b", re.IGNORECASE)
_REDACTED = "***"


@dataclass
class CallStats:
    """Counters of one client's traffic, reported in run metadata.

    `api_calls` counts HTTP requests sent (retries included), `retries` the repeats among them,
    `pages` the result pages a client handed to its caller, and `seconds_waiting` the time spent
    backing off between attempts.
    """

    api_calls: int = 0
    retries: int = 0
    pages: int = 0
    seconds_waiting: float = 0.0

    def as_dict(self) -> dict[str, int | float]:
        values = asdict(self)
        values["seconds_waiting"] = round(self.seconds_waiting, 3)
        return values


@dataclass(frozen=True)
class RetryPolicy:
    """When to retry and how long to wait.

    The n-th retry waits a random time between 0 and `min(max_delay, base_delay * 2**n)` (full
    jitter spreads out clients that failed together), but never less than the server's own hint.
    `max_total_wait` bounds the sum of waits of one request, so a throttled run fails in bounded
    time instead of hanging a schedule.
    """

    max_retries: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_total_wait: float = 300.0
    retry_statuses: frozenset[int] = RETRYABLE_STATUSES

    def backoff(self, retry: int, rand: Callable[[], float]) -> float:
        return rand() * min(self.max_delay, self.base_delay * (2**retry))


@dataclass(frozen=True)
class Clock:
    """Time source and sleep; tests replace them to assert waits without waiting."""

    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    random: Callable[[], float] = random.random


class ApiError(Exception):
    """An API call failed for good. Carries what a human needs, and no secret.

    `status` is None when no response arrived (timeout, connection failure). `path` is the URL
    path only: query strings and headers are never kept.
    """

    def __init__(
        self,
        *,
        service: str,
        status: int | None,
        title: str,
        method: str,
        path: str,
        attempts: int = 1,
        hint: str | None = None,
    ) -> None:
        self.service = service
        self.status = status
        self.title = title
        self.method = method
        self.path = path
        self.attempts = attempts
        self.hint = hint
        super().__init__(self._message())

    def _details(self) -> list[str]:
        """Extra parts of the message; providers add theirs (trace id, field errors)."""
        return []

    def _message(self) -> str:
        status = f"HTTP {self.status}" if self.status is not None else "no response"
        parts = [f"{self.service} {self.method} {self.path} failed ({status}): {self.title}"]
        parts.extend(self._details())
        if self.attempts > 1:
            parts.append(f"after {self.attempts} attempts")
        if self.hint:
            parts.append(self.hint)
        return "; ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


@dataclass(frozen=True)
class Failure:
    """What an `ErrorFactory` gets: the final response (or None) and the call it answered."""

    method: str
    path: str
    attempts: int
    response: httpx.Response | None = None
    reason: str | None = None


ErrorFactory = Callable[[Failure], ApiError]
WaitHint = Callable[[httpx.Response], float | None]


def retry_after_header(response: httpx.Response) -> float | None:
    """Seconds asked for by `Retry-After` (delta-seconds or HTTP date), if any."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def seconds_in_text(text: str | None) -> float | None:
    """The number in '... try again in N seconds.' style messages, if there is one."""
    if not text:
        return None
    match = _SECONDS_IN_TEXT.search(text)
    return float(match.group(1)) if match else None


def default_error_factory(service: str) -> ErrorFactory:
    """Errors with the response text (truncated) as title, for providers without a format."""

    def build(failure: Failure) -> ApiError:
        if failure.response is None:
            status, title = None, failure.reason or "no response"
        else:
            status = failure.response.status_code
            title = failure.response.text[:300] or failure.response.reason_phrase
        return ApiError(
            service=service,
            status=status,
            title=title,
            method=failure.method,
            path=failure.path,
            attempts=failure.attempts,
        )

    return build


class Redactor:
    """Replaces known secret values in text; secrets shorter than 4 characters are ignored."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: list[str] = []
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        for secret in secrets:
            if secret and len(secret) >= 4 and secret not in self._secrets:
                self._secrets.append(secret)
        self._secrets.sort(key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, _REDACTED)
        return text

    def scrub(self, error: ApiError) -> ApiError:
        """Redact every text field of `error` and rebuild its message."""
        for name, value in list(vars(error).items()):
            if isinstance(value, str):
                setattr(error, name, self(value))
            elif isinstance(value, dict | list):
                setattr(error, name, _redact_nested(value, self))
        error.args = (self(error._message()),)
        return error


def _redact_nested(value: Any, redact: Redactor) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(k)): _redact_nested(v, redact) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_nested(v, redact) for v in value]
    return value


class ResilientClient:
    """An `httpx.Client` that retries what is worth retrying and counts what it does.

    Retried: statuses in `policy.retry_statuses` and transport errors (timeouts, resets). A 5xx
    or a read timeout on a non-idempotent method (POST, PATCH) is not retried, since the server
    may have acted on it; a 429 or a connection that never opened is, since it did not.
    `auth` is called before every attempt, so a token that expires during a long backoff is
    renewed before the next attempt.
    """

    def __init__(
        self,
        *,
        service: str,
        timeout: float = 60.0,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        error_factory: ErrorFactory | None = None,
        wait_hint: WaitHint | None = None,
        secrets: Iterable[str | None] = (),
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.service = service
        self.policy = policy or RetryPolicy()
        self.clock = clock or Clock()
        self.stats = CallStats()
        self.redact = Redactor(secrets)
        self._error_factory = error_factory or default_error_factory(service)
        self._wait_hint = wait_hint
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout),
            headers=dict(headers or {}),
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ResilientClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: Callable[[], Mapping[str, str]] | None = None,
        passthrough: Collection[int] = (),
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send with retries; return a 2xx/3xx response or one whose status is in `passthrough`.

        Any other outcome raises the `ApiError` built by the error factory, with secrets
        scrubbed. Statuses in `passthrough` are handed back so the caller can react (a 401 that
        calls for a new token) instead of failing. `idempotent` overrides the method's default,
        for a POST that is safe to repeat (an OAuth token request).
        """
        method = method.upper()
        path = httpx.URL(url).path
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        attempts = 0
        waited = 0.0
        while True:
            attempts += 1
            request_headers = dict(headers or {})
            if auth is not None:
                request_headers.update(auth())
            self.stats.api_calls += 1
            response: httpx.Response | None = None
            reason: str | None = None
            retryable = False
            try:
                response = self._http.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    content=content,
                    data=data,
                    headers=request_headers,
                )
            except httpx.TransportError as exc:
                reason = _describe_transport_error(exc, self._http.timeout)
                retryable = idempotent or isinstance(exc, _NOT_SENT)
            if response is not None:
                # httpx binds a response and its stream to each other; that reference cycle
                # would keep the body (a whole export page) alive until the cyclic collector
                # runs. The body is read by now: unbind it, so it goes with the response.
                response.stream = httpx.ByteStream(response.content)
                status = response.status_code
                if status < 400 or status in passthrough:
                    return response
                retryable = status in self.policy.retry_statuses and (idempotent or status == 429)
            if retryable and attempts <= self.policy.max_retries:
                delay = self._delay(attempts - 1, response)
                if waited + delay <= self.policy.max_total_wait:
                    if response is not None:
                        response.close()
                    self.stats.retries += 1
                    self.stats.seconds_waiting += delay
                    waited += delay
                    self.clock.sleep(delay)
                    continue
            raise self._fail(Failure(method, path, attempts, response, reason))

    def _delay(self, retry: int, response: httpx.Response | None) -> float:
        delay = self.policy.backoff(retry, self.clock.random)
        if response is not None:
            hint = retry_after_header(response)
            if hint is None and self._wait_hint is not None:
                hint = self._wait_hint(response)
            if hint is not None:
                delay = max(delay, hint)
        return delay

    def _fail(self, failure: Failure) -> ApiError:
        """Build the error outside any `except` block, so no httpx exception (which holds the
        request and its headers) is chained to it."""
        if failure.response is not None:
            failure.response.read()
        return self.redact.scrub(self._error_factory(failure))


def _describe_transport_error(exc: httpx.TransportError, timeout: httpx.Timeout) -> str:
    detail = str(exc)[:200]
    if isinstance(exc, httpx.TimeoutException):
        limit = timeout.read or timeout.connect
        return f"timed out ({type(exc).__name__}, limit {limit} s)"
    if detail:
        return f"transport error ({type(exc).__name__}: {detail})"
    return f"transport error ({type(exc).__name__})"


class ApiClient:
    """What every API client of the platform shares: call statistics and a closable session.

    Subclasses set `self._http` to their `ResilientClient`.
    """

    _http: ResilientClient

    @property
    def stats(self) -> CallStats:
        return self._http.stats

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
