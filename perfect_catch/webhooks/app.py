"""The webhook receiver (ASGI): Twilio inbound texts and status callbacks, SendGrid events and
GoHighLevel events.

Limits come before work: a body over `WEBHOOK_MAX_BODY_BYTES` is refused with 413 before it is
buffered (`limits`), a request without its provider's signature header with 403 before its body
is read. Every route checks the provider's signature (see `verify`) and answers 403 without
touching the database when it does not hold; only then is the payload parsed and validated
(`payloads`): a value that does not fit gets a 400 naming the field. Nothing secret is logged,
and logs mask phone numbers and emails (`log_masking`). Accepted reports are
written by `perfect_catch.messaging.delivery` (opt-outs, delivery events, message statuses) or,
for GoHighLevel, by `perfect_catch.integrations.ghl_webhooks.apply_ghl_webhook`. Each write is
idempotent, since every provider retries deliveries it thinks failed.

Routes: `POST /twilio/inbound`, `POST /twilio/status`, `POST /sendgrid/events`, `POST /ghl`,
`GET /health`. Point Twilio's number (inbound), SendGrid's Event Webhook and GHL's webhooks at
`WEBHOOK_PUBLIC_URL` + these paths; status callbacks are requested by the dispatcher itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from perfect_catch.integrations.ghl_webhooks import WebhookError, apply_ghl_webhook
from perfect_catch.messaging import delivery
from perfect_catch.messaging.consent import keyword_action
from perfect_catch.settings import MessagingSettings, Settings
from perfect_catch.webhooks import payloads, verify
from perfect_catch.webhooks.limits import BodyLimit
from perfect_catch.webhooks.log_masking import log_config

log = logging.getLogger(__name__)

EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _public_url(request: Request, messaging: MessagingSettings) -> str:
    """The URL the provider signed: the configured public base plus path and query."""
    if not messaging.webhook_public_url:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{messaging.webhook_public_url}{request.url.path}{query}"


def _forbidden(what: str) -> Response:
    log.warning("rejected %s webhook: bad or missing signature", what)
    return JSONResponse({"error": f"invalid {what} signature"}, 403)


def _bad(exc: ValueError) -> Response:
    log.warning("rejected webhook payload: %s", exc)
    return JSONResponse({"error": str(exc)}, 400)


def build_app(settings: Settings, engine: sa.Engine | None = None) -> Starlette:
    """The receiver app; the engine defaults to the configured warehouse's."""

    def deps() -> tuple[sa.Engine, Settings, MessagingSettings]:
        from perfect_catch.warehouse.engine import get_engine

        return engine or get_engine(settings), settings, settings.messaging

    def write(fn: Callable[[sa.Connection], Any]) -> Any:
        with deps()[0].begin() as conn:
            return fn(conn)

    async def twilio_form(request: Request) -> dict[str, str] | Response:
        _, cfg, msg = deps()
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            return _forbidden("Twilio")
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            return JSONResponse({"error": "Twilio posts application/x-www-form-urlencoded"}, 415)
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        url = _public_url(request, msg)
        token = cfg.twilio_auth_token.get_secret_value()
        if not verify.twilio_valid(token, url, form, signature):
            return _forbidden("Twilio")
        return form

    async def twilio_inbound(request: Request) -> Response:
        form = await twilio_form(request)
        if isinstance(form, Response):
            return form
        try:
            inbound = payloads.as_dict(payloads.parse(payloads.TwilioInbound, form))
        except payloads.PayloadError as exc:
            return _bad(exc)
        action = keyword_action(inbound.get("Body"))
        await run_in_threadpool(write, lambda c: delivery.apply_inbound_sms(c, inbound, action))
        if action:
            log.info("inbound SMS keyword %s recorded", action)
        return Response(EMPTY_TWIML, 200, media_type="text/xml")

    async def twilio_status(request: Request) -> Response:
        form = await twilio_form(request)
        if isinstance(form, Response):
            return form
        key = request.query_params.get("key")
        try:
            status = payloads.as_dict(payloads.parse(payloads.TwilioStatus, form))
            if key is not None:
                payloads.parse(payloads.CallbackKey, {"key": key})
        except payloads.PayloadError as exc:
            return _bad(exc)
        try:
            await run_in_threadpool(write, lambda c: delivery.apply_twilio_status(c, status, key))
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return Response(b"", 204)

    async def sendgrid_events(request: Request) -> Response:
        _, _, msg = deps()
        signature = request.headers.get("X-Twilio-Email-Event-Webhook-Signature", "")
        timestamp = request.headers.get("X-Twilio-Email-Event-Webhook-Timestamp", "")
        if not signature or not timestamp:
            return _forbidden("SendGrid")
        body = await request.body()
        valid = verify.sendgrid_valid(
            msg.sendgrid_webhook_public_key.get_secret_value(), body, signature, timestamp
        )
        if not valid:
            return _forbidden("SendGrid")
        try:
            events = orjson.loads(body)
        except orjson.JSONDecodeError:
            return JSONResponse({"error": "body is not JSON"}, 400)
        if not isinstance(events, list):
            return JSONResponse({"error": "body must be a JSON array of events"}, 400)
        try:
            checked = [
                payloads.as_dict(payloads.parse(payloads.SendGridEvent, event, f"events[{n}]"))
                for n, event in enumerate(events)
            ]
        except payloads.PayloadError as exc:
            return _bad(exc)

        def apply(conn: sa.Connection) -> int:
            return sum(1 for event in checked if delivery.apply_sendgrid_event(conn, event))

        try:
            fresh = await run_in_threadpool(write, apply)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse({"received": len(events), "new": fresh})

    async def ghl(request: Request) -> Response:
        eng, _, msg = deps()
        signature = request.headers.get("x-wh-signature", "")
        if not signature:
            return _forbidden("GoHighLevel")
        body = await request.body()
        valid = verify.ghl_valid(msg.ghl_webhook_public_key.get_secret_value(), body, signature)
        if not valid:
            return _forbidden("GoHighLevel")
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return JSONResponse({"error": "body is not JSON"}, 400)
        if not isinstance(payload, dict):
            return JSONResponse({"error": "body must be a JSON object"}, 400)
        try:
            event = payloads.as_dict(payloads.parse(payloads.GhlEvent, payload))
            outcome = await run_in_threadpool(apply_ghl_webhook, eng, event)
        except (payloads.PayloadError, WebhookError) as exc:
            return _bad(exc)
        return JSONResponse({"outcome": outcome})

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/twilio/inbound", twilio_inbound, methods=["POST"]),
            Route("/twilio/status", twilio_status, methods=["POST"]),
            Route("/sendgrid/events", sendgrid_events, methods=["POST"]),
            Route("/ghl", ghl, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        middleware=[Middleware(BodyLimit, max_bytes=settings.messaging.webhook_max_body_bytes)],
    )


def serve(settings: Settings, port: int, host: str = "0.0.0.0") -> None:
    """Serve the receiver on `host:port` until interrupted (`perfect-catch serve-webhooks`)."""
    import uvicorn

    uvicorn.run(
        build_app(settings),
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        log_config=log_config(),
    )
