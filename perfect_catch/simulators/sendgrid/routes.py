"""HTTP surface of the simulated SendGrid v3 API: Mail Send and the Email Activity feed.

`POST /v3/mail/send` validates the body like SendGrid (personalizations, from, subject,
content) and answers 202 with `X-Message-Id`; errors use SendGrid's `{"errors": [...]}` body.
`GET /v3/messages?query=unique_args['k']="v"` is the Email Activity API's lookup by custom
argument. Admin routes under `/_admin` emit events and set the Event Webhook URL.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from perfect_catch.simulators.faults import FaultInjector
from perfect_catch.simulators.sendgrid.state import EventPost, SendGridState

_QUERY = re.compile(r"""^unique_args\['([^']+)'\]="((?:[^"\\]|\\.)*)"$""")


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(payload), status, headers, media_type="application/json")


def sg_error(status: int, message: str, field: str | None = None) -> Response:
    return _json({"errors": [{"message": message, "field": field, "help": None}]}, status)


async def _post(posts: list[EventPost | None]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    pending = [post for post in posts if post is not None]
    if not pending:
        return results
    async with httpx.AsyncClient(timeout=10.0) as client:
        for post in pending:
            try:
                response = await client.post(post.url, content=post.body, headers=post.headers)
                results.append({"url": post.url, "status": response.status_code})
            except httpx.HTTPError as exc:
                results.append({"url": post.url, "error": type(exc).__name__})
    return results


async def mail_send(request: Request, state: SendGridState) -> Response:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return sg_error(400, "Bad Request", None)
    personalizations = body.get("personalizations") or []
    if not personalizations:
        return sg_error(400, "The personalizations field is required.", "personalizations")
    if not (body.get("from") or {}).get("email"):
        return sg_error(400, "The from email is required.", "from.email")
    subject = body.get("subject") or personalizations[0].get("subject")
    if not subject:
        return sg_error(400, "The subject is required.", "subject")
    if not body.get("content") and not body.get("template_id"):
        return sg_error(
            400, "The content value must be a string at least one character.", "content"
        )
    posts = []
    ids = []
    for person in personalizations:
        args = {**(body.get("custom_args") or {}), **(person.get("custom_args") or {})}
        for recipient in person.get("to") or []:
            msg_id, events = state.accept(str(recipient.get("email", "")), subject, args)
            ids.append(msg_id)
            posts.append(state.post_for(events))
    if not ids:
        return sg_error(400, "The to array is required.", "personalizations.0.to")
    await _post(posts)
    return Response(b"", 202, {"X-Message-Id": ids[0]})


async def activity(request: Request, state: SendGridState) -> Response:
    query = request.query_params.get("query", "")
    match = _QUERY.match(query)
    if not match:
        return sg_error(400, "invalid query", "query")
    value = match.group(2).replace('\\"', '"').replace("\\\\", "\\")
    limit = int(request.query_params.get("limit", "10"))
    return _json({"messages": state.activity(match.group(1), value)[:limit]})


async def admin_advance(request: Request, state: SendGridState) -> Response:
    """`{"msg_id"?: ..., "event"?: "delivered"|"bounce"|"spamreport"|"unsubscribe"}`."""
    body = orjson.loads(await request.body() or b"{}")
    events = state.advance(body.get("msg_id"), body.get("event", "delivered"))
    return _json({"events": len(events), "posts": await _post([state.post_for(events)])})


async def admin_events(request: Request, state: SendGridState) -> Response:
    return _json({"events": list(state.events)})


async def admin_config(request: Request, state: SendGridState) -> Response:
    """`{"event_webhook_url": ...}` sets where events are posted."""
    if request.method != "GET":
        body = orjson.loads(await request.body() or b"{}")
        if "event_webhook_url" in body:
            state.event_webhook_url = str(body["event_webhook_url"] or "")
    return _json({"event_webhook_url": state.event_webhook_url, "public_key": state.public_key})


Handler = Callable[[Request, SendGridState], Awaitable[Response]]


def build_sendgrid_app(state: SendGridState, faults: FaultInjector) -> Starlette:
    """The SendGrid sub-app: API routes behind faults and bearer auth, admin routes open."""

    def api(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            kind = await faults.strike()
            if kind == "429":
                return sg_error(429, "too many requests")
            if kind == "5xx":
                return sg_error(500, "internal server error")
            if kind == "timeout":
                return sg_error(504, "gateway timeout")
            if request.headers.get("Authorization") != f"Bearer {state.api_key}":
                return sg_error(
                    401, "The provided authorization grant is invalid, expired, or revoked"
                )
            if request.method == "POST":
                state.send_requests += 1
            return await handler(request, state)

        return endpoint

    def admin(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await handler(request, state)

        return endpoint

    return Starlette(
        routes=[
            Route("/v3/mail/send", api(mail_send), methods=["POST"]),
            Route("/v3/messages", api(activity), methods=["GET"]),
            Route("/_admin/advance", admin(admin_advance), methods=["POST"]),
            Route("/_admin/events", admin(admin_events), methods=["GET"]),
            Route("/_admin/config", admin(admin_config), methods=["GET", "PUT"]),
        ]
    )
