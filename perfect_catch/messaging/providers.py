"""Twilio and SendGrid behind one small interface: send a message, find a message sent before.

Both use the official SDKs. Twilio's client is pointed at `TWILIO_API_URL` by setting the base
URL of its `api` domain on this client instance only (every Messages call goes through that
domain); SendGrid's takes its host as an argument. Provider answers become either a
`SendOutcome` (accepted, with the provider's id) or a `ProviderRefusal` that says whether trying
again can help and whether it means the recipient opted out.
"""

from __future__ import annotations

import logging
from collections.abc import Container
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

import orjson
import python_http_client.exceptions as sg_errors
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import CustomArg, Mail
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client as TwilioClient

from perfect_catch.settings import Settings

log = logging.getLogger(__name__)

#: SendGrid custom argument carrying the outbox idempotency key (echoed in every event).
KEY_ARG = "outbox_key"
#: Twilio errors meaning the recipient refuses messages from this sender.
TWILIO_OPT_OUT_CODES = frozenset({21610})


@dataclass(frozen=True)
class Message:
    """What a provider needs to send one outbox row."""

    idempotency_key: str
    channel: str
    to: str
    body: str
    subject: str | None = None
    html: str | None = None


@dataclass(frozen=True)
class SendOutcome:
    """The provider accepted the message."""

    provider: str
    provider_id: str
    status: str
    response: dict[str, Any] = field(default_factory=dict)


class ProviderRefusal(Exception):
    """The provider did not accept the message (or could not be reached)."""

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        code: str | None = None,
        transient: bool,
        opt_out: bool = False,
        response: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.code = code
        self.transient = transient
        self.opt_out = opt_out
        self.response = response or {}


class Provider(Protocol):
    name: str

    def send(self, message: Message) -> SendOutcome: ...

    def find(self, message: Message, exclude: Container[str]) -> SendOutcome | None:
        """A message the provider holds for `message` whose id is not in `exclude`, or None.

        Raises `ProviderRefusal` when the provider cannot be asked."""
        ...


class TwilioProvider:
    """SMS through Twilio's Messages API."""

    name = "twilio"

    def __init__(self, settings: Settings) -> None:
        messaging = settings.messaging
        token = settings.twilio_auth_token.get_secret_value()
        if not (settings.twilio_account_sid and token and settings.twilio_from_number):
            raise ValueError(
                "Twilio is not configured: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                "TWILIO_FROM_NUMBER"
            )
        http = TwilioHttpClient(timeout=messaging.messaging_provider_timeout_seconds)
        self.client = TwilioClient(settings.twilio_account_sid, token, http_client=http)
        self.client.api.base_url = settings.twilio_api_url
        self.from_number = settings.twilio_from_number
        self.callback_base = messaging.webhook_public_url

    def _callback(self, key: str) -> str | None:
        if not self.callback_base:
            return None
        return f"{self.callback_base}/twilio/status?key={quote(key, safe='')}"

    def send(self, message: Message) -> SendOutcome:
        callback = self._callback(message.idempotency_key)
        kwargs: dict[str, Any] = {"to": message.to, "from_": self.from_number, "body": message.body}
        if callback:
            kwargs["status_callback"] = callback
        try:
            sent = self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            raise _twilio_refusal(exc) from None
        except (TwilioException, OSError) as exc:
            raise ProviderRefusal(
                "twilio", f"Twilio unreachable ({type(exc).__name__})", transient=True
            ) from None
        return SendOutcome("twilio", sent.sid, sent.status or "queued", _twilio_record(sent))

    def find(self, message: Message, exclude: Container[str]) -> SendOutcome | None:
        try:
            found = self.client.messages.list(to=message.to, from_=self.from_number, limit=200)
        except TwilioRestException as exc:
            raise _twilio_refusal(exc) from None
        except (TwilioException, OSError) as exc:
            raise ProviderRefusal(
                "twilio", f"Twilio unreachable ({type(exc).__name__})", transient=True
            ) from None
        for item in found:
            if item.sid not in exclude and item.body == message.body:
                return SendOutcome(
                    "twilio", item.sid, item.status or "queued", _twilio_record(item)
                )
        return None


def _twilio_record(message: Any) -> dict[str, Any]:
    return {
        "sid": message.sid,
        "status": message.status,
        "to": message.to,
        "num_segments": message.num_segments,
        "error_code": message.error_code,
        "date_created": str(message.date_created) if message.date_created else None,
    }


def _twilio_refusal(exc: TwilioRestException) -> ProviderRefusal:
    status = int(exc.status or 0)
    transient = status == 429 or status >= 500 or status == 0
    code = str(exc.code) if exc.code is not None else None
    opt_out = exc.code in TWILIO_OPT_OUT_CODES
    text = f"Twilio {code or status}: {exc.msg}"
    return ProviderRefusal(
        "twilio",
        text,
        code=code,
        transient=transient,
        opt_out=opt_out,
        response={"status": status, "code": exc.code, "message": exc.msg},
    )


class SendGridProvider:
    """Email through SendGrid's v3 Mail Send API."""

    name = "sendgrid"

    def __init__(self, settings: Settings) -> None:
        key = settings.sendgrid_api_key.get_secret_value()
        if not (key and settings.sendgrid_from_email):
            raise ValueError(
                "SendGrid is not configured: set SENDGRID_API_KEY and SENDGRID_FROM_EMAIL"
            )
        self.client = SendGridAPIClient(api_key=key, host=settings.sendgrid_api_url)
        self.client.client.timeout = settings.messaging.messaging_provider_timeout_seconds
        self.from_email = settings.sendgrid_from_email

    def send(self, message: Message) -> SendOutcome:
        mail = Mail(
            from_email=self.from_email,
            to_emails=message.to,
            subject=message.subject or "",
            plain_text_content=message.body,
            html_content=message.html,
        )
        mail.custom_arg = CustomArg(KEY_ARG, message.idempotency_key)
        try:
            response = self.client.send(mail)
        except sg_errors.HTTPError as exc:
            raise _sendgrid_refusal(exc) from None
        except OSError as exc:
            raise ProviderRefusal(
                "sendgrid", f"SendGrid unreachable ({type(exc).__name__})", transient=True
            ) from None
        message_id = _header(response.headers, "X-Message-Id")
        if not message_id:
            raise ProviderRefusal(
                "sendgrid", "SendGrid accepted the mail without an X-Message-Id", transient=False
            )
        return SendOutcome(
            "sendgrid", message_id, "accepted", {"status": response.status_code, "id": message_id}
        )

    def find(self, message: Message, exclude: Container[str]) -> SendOutcome | None:
        escaped = message.idempotency_key.replace("\\", "\\\\").replace('"', '\\"')
        query = f"unique_args['{KEY_ARG}']=\"{escaped}\""
        try:
            response = self.client.client.messages.get(query_params={"query": query, "limit": 10})
        except sg_errors.HTTPError as exc:
            raise _sendgrid_refusal(exc) from None
        except OSError as exc:
            raise ProviderRefusal(
                "sendgrid", f"SendGrid unreachable ({type(exc).__name__})", transient=True
            ) from None
        for item in orjson.loads(response.body or b"{}").get("messages", []):
            msg_id = str(item.get("msg_id", "")).split(".")[0]
            if msg_id and msg_id not in exclude:
                return SendOutcome("sendgrid", msg_id, str(item.get("status", "accepted")), item)
        return None


def _header(headers: Any, name: str) -> str | None:
    getter = getattr(headers, "get", None)
    value = getter(name) if getter else None
    if value is None and getter:
        value = getter(name.lower())
    return value


def _sendgrid_refusal(exc: sg_errors.HTTPError) -> ProviderRefusal:
    status = int(getattr(exc, "status_code", 0) or 0)
    body = getattr(exc, "body", b"") or b""
    detail = body.decode("utf-8", "replace")[:500] if isinstance(body, bytes) else str(body)[:500]
    return ProviderRefusal(
        "sendgrid",
        f"SendGrid HTTP {status}: {detail}",
        code=str(status),
        transient=status == 429 or status >= 500,
        response={"status": status, "body": detail},
    )


def configured_channels(settings: Settings) -> list[str]:
    """The channels whose provider has credentials (the others' messages wait in the outbox)."""
    channels = []
    if settings.twilio_account_sid and settings.twilio_auth_token.get_secret_value():
        channels.append("sms")
    if settings.sendgrid_api_key.get_secret_value():
        channels.append("email")
    return channels


@dataclass
class Providers:
    """The provider of each channel, built on first use (a channel may be unconfigured)."""

    settings: Settings
    overrides: dict[str, Provider] = field(default_factory=dict)

    def for_channel(self, channel: str) -> Provider:
        if channel not in self.overrides:
            builder = TwilioProvider if channel == "sms" else SendGridProvider
            self.overrides[channel] = builder(self.settings)
        return self.overrides[channel]
