"""HTTP surface of the simulated Twilio Programmable Messaging API (2010-04-01).

`POST/GET /2010-04-01/Accounts/{Sid}/Messages.json` and `GET .../Messages/{MessageSid}.json`
with HTTP basic auth (account SID : auth token), form-encoded requests, Twilio's JSON resources,
paging envelope and error body (`code`, `message`, `more_info`, `status`). Admin routes under
`/_admin` drive what Twilio would do on its own: status progress and inbound texts, each
answered by the signed webhook POSTs they cause.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from perfect_catch.simulators.faults import FaultInjector
from perfect_catch.simulators.twilio.state import MAGIC_TO, TwilioState, Webhook

_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_MESSAGES = {
    20003: "Authentication Error - invalid username",
    20404: "The requested resource was not found",
    21211: "The 'To' number {to} is not a valid phone number.",
    21602: "Message body is required.",
    21604: "A 'To' phone number is required.",
    21606: "The 'From' phone number provided is not a valid message-capable Twilio phone number.",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number is not currently reachable via SMS.",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
}


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(payload), status, headers, media_type="application/json")


def twilio_error(code: int, status: int, **fmt: str) -> Response:
    body = {
        "code": code,
        "message": _MESSAGES.get(code, "Error").format(**fmt),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return _json(body, status)


def _public(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if not k.startswith("_")}


def _authorized(request: Request, state: TwilioState) -> bool:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    return user == state.account_sid and password == state.auth_token


async def create_message(request: Request, state: TwilioState) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    to, body, sender = form.get("To", ""), form.get("Body", ""), form.get("From", "")
    if not to:
        return twilio_error(21604, 400)
    if not body:
        return twilio_error(21602, 400)
    if len(body) > 1600:
        return twilio_error(21617, 400)
    if sender != state.from_number and not form.get("MessagingServiceSid"):
        return twilio_error(21606, 400)
    if to in MAGIC_TO:
        return twilio_error(MAGIC_TO[to], 400, to=to)
    if not _E164.match(to):
        return twilio_error(21211, 400, to=to)
    if to in state.opted_out:
        return twilio_error(21610, 400)
    message = state.create(to, body, form.get("StatusCallback") or None)
    return _json(_public(message), 201)


async def list_messages(request: Request, state: TwilioState) -> Response:
    params = request.query_params
    page_size = max(1, min(int(params.get("PageSize", "50")), 1000))
    page = max(0, int(params.get("Page", "0")))
    with state.lock:
        found = [
            m
            for m in reversed(list(state.messages.values()))
            if (not params.get("To") or m["to"] == params["To"])
            and (not params.get("From") or m["from"] == params["From"])
        ]
    chunk = found[page * page_size : (page + 1) * page_size]
    base = f"/2010-04-01/Accounts/{state.account_sid}/Messages.json"
    # Encoded: a raw `+` of an E.164 number would come back as a space on the next page.
    query = urlencode([(k, v) for k, v in params.multi_items() if k not in ("Page", "PageSize")])
    query = f"{query}&" if query else ""
    has_next = (page + 1) * page_size < len(found)
    return _json(
        {
            "messages": [_public(m) for m in chunk],
            "end": page * page_size + max(len(chunk) - 1, 0),
            "first_page_uri": f"{base}?{query}PageSize={page_size}&Page=0",
            "next_page_uri": f"{base}?{query}PageSize={page_size}&Page={page + 1}"
            if has_next
            else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": None,
            "start": page * page_size,
            "uri": f"{base}?{query}PageSize={page_size}&Page={page}",
        }
    )


async def get_message(request: Request, state: TwilioState) -> Response:
    message = state.messages.get(request.path_params["sid"])
    if message is None:
        return twilio_error(20404, 404)
    return _json(_public(message))


async def _post_all(hooks: list[Webhook]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    if not hooks:
        return results
    async with httpx.AsyncClient(timeout=10.0) as client:
        for hook in hooks:
            try:
                response = await client.post(
                    hook.url, data=hook.form, headers={"X-Twilio-Signature": hook.signature}
                )
                results.append({"url": hook.url, "status": response.status_code})
            except httpx.HTTPError as exc:
                results.append({"url": hook.url, "error": type(exc).__name__})
    return results


async def admin_advance(request: Request, state: TwilioState) -> Response:
    """`{"sid"?: ..., "outcome"?: "delivered"|"undelivered"|"failed", "error_code"?: int}`."""
    body = orjson.loads(await request.body() or b"{}")
    hooks = state.advance(body.get("sid"), body.get("outcome", "delivered"), body.get("error_code"))
    return _json({"callbacks": await _post_all(hooks)})


async def admin_inbound(request: Request, state: TwilioState) -> Response:
    """`{"from": "+1...", "body": "STOP"}`: a customer texts the sender number."""
    body = orjson.loads(await request.body() or b"{}")
    hook = state.inbound(str(body["from"]), str(body.get("body", "")))
    return _json({"webhooks": await _post_all([hook] if hook else [])})


async def admin_config(request: Request, state: TwilioState) -> Response:
    """`{"inbound_url": ...}` sets where inbound texts are posted."""
    if request.method != "GET":
        body = orjson.loads(await request.body() or b"{}")
        if "inbound_url" in body:
            state.inbound_url = str(body["inbound_url"] or "")
    return _json({"inbound_url": state.inbound_url, "opted_out": sorted(state.opted_out)})


Handler = Callable[[Request, TwilioState], Awaitable[Response]]


def build_twilio_app(state: TwilioState, faults: FaultInjector) -> Starlette:
    """The Twilio sub-app: API routes behind faults and basic auth, admin routes open."""

    def api(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            kind = await faults.strike()
            if kind == "429":
                return twilio_error(20429, 429)
            if kind == "5xx":
                return twilio_error(20500, 500)
            if kind == "timeout":
                return twilio_error(20500, 504)
            if not _authorized(request, state):
                return twilio_error(20003, 401)
            if request.path_params.get("account") != state.account_sid:
                return twilio_error(20404, 404)
            if request.method == "POST":
                state.create_requests += 1
            return await handler(request, state)

        return endpoint

    def admin(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await handler(request, state)

        return endpoint

    base = "/2010-04-01/Accounts/{account}"
    return Starlette(
        routes=[
            Route(f"{base}/Messages.json", api(create_message), methods=["POST"]),
            Route(f"{base}/Messages.json", api(list_messages), methods=["GET"]),
            Route(f"{base}/Messages/{{sid}}.json", api(get_message), methods=["GET"]),
            Route("/_admin/advance", admin(admin_advance), methods=["POST"]),
            Route("/_admin/inbound", admin(admin_inbound), methods=["POST"]),
            Route("/_admin/config", admin(admin_config), methods=["GET", "PUT"]),
        ]
    )
