"""ServiceTitan's error body (`ApiErrorResponse` in the specs) and the responses that carry it."""

from __future__ import annotations

import itertools
from typing import Any

import orjson
from starlette.responses import Response

_TYPES = {
    400: "https://tools.ietf.org/html/rfc7231#section-6.5.1",
    401: "https://tools.ietf.org/html/rfc7235#section-3.1",
    403: "https://tools.ietf.org/html/rfc7231#section-6.5.3",
    404: "https://tools.ietf.org/html/rfc7231#section-6.5.4",
    405: "https://tools.ietf.org/html/rfc7231#section-6.5.5",
    409: "https://tools.ietf.org/html/rfc7231#section-6.5.8",
    429: "https://tools.ietf.org/html/rfc6585#section-4",
    500: "https://tools.ietf.org/html/rfc7231#section-6.6.1",
    503: "https://tools.ietf.org/html/rfc7231#section-6.6.4",
    504: "https://tools.ietf.org/html/rfc7231#section-6.6.5",
}
_trace_ids = itertools.count(1)


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(payload), status, headers, media_type="application/json")


def api_error(
    status: int,
    title: str,
    errors: dict[str, list[str]] | None = None,
    data: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """An `ApiErrorResponse`: {type, title, status, traceId, errors, data}."""
    trace = next(_trace_ids)
    body = {
        "type": _TYPES.get(status, _TYPES[500]),
        "title": title,
        "status": status,
        "traceId": f"00-{trace:032x}-{trace * 7919 % (1 << 64):016x}-00",
        "errors": errors or {},
        "data": data or {},
    }
    return json_response(body, status, headers)


def too_many_requests(seconds: int) -> Response:
    """ST's 429: the title ends with the wait, which clients parse ("... in 2 seconds.")."""
    return api_error(
        429,
        f"Too many requests. Please try again in {seconds} seconds.",
        headers={"Retry-After": str(seconds)},
    )
