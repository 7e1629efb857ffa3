"""What the simulated Twilio account knows: sent messages, opted-out numbers, webhook targets.

Messages move queued -> sent -> delivered (or undelivered/failed with an ErrorCode) only when a
test or an operator says so (`advance`), so every status callback is deterministic. A number that
texted STOP is refused with 21610, as Twilio's carrier-level opt-out handling does.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from twilio.request_validator import RequestValidator

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
#: Twilio's magic test numbers: https://www.twilio.com/docs/iam/test-credentials
MAGIC_TO = {"+15005550001": 21211, "+15005550009": 21614, "+15005550004": 21612}


def _hex(seed: int, kind: str, size: int = 32) -> str:
    return hashlib.blake2b(f"{seed}:{kind}".encode(), digest_size=size // 2).hexdigest()


@dataclass
class Webhook:
    """A form POST the simulator owes a receiver (status callback or inbound SMS)."""

    url: str
    form: dict[str, str]
    signature: str


@dataclass
class TwilioState:
    seed: int = 1
    account_sid: str = ""
    auth_token: str = ""
    from_number: str = "+16025550100"
    inbound_url: str = ""
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    opted_out: set[str] = field(default_factory=set)
    create_requests: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)
    _counter: int = 0

    def __post_init__(self) -> None:
        self.account_sid = self.account_sid or "AC" + _hex(self.seed, "account")
        self.auth_token = self.auth_token or _hex(self.seed, "token")

    def sign(self, url: str, form: dict[str, str]) -> str:
        return RequestValidator(self.auth_token).compute_signature(url, form)

    def _sid(self, prefix: str) -> str:
        self._counter += 1
        return prefix + _hex(self.seed, f"{prefix}:{self._counter}")

    def outbound(self) -> list[dict[str, Any]]:
        """Messages sent through the API (what a customer would have received)."""
        with self.lock:
            return [m for m in self.messages.values() if m["direction"] == "outbound-api"]

    def create(self, to: str, body: str, callback: str | None) -> dict[str, Any]:
        now = format_datetime(datetime.now(UTC), usegmt=True)
        with self.lock:
            sid = self._sid("SM")
            message = {
                "account_sid": self.account_sid,
                "api_version": "2010-04-01",
                "body": body,
                "date_created": now,
                "date_sent": None,
                "date_updated": now,
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "from": self.from_number,
                "messaging_service_sid": None,
                "num_media": "0",
                "num_segments": str(max(1, (len(body) + 152) // 153)),
                "price": None,
                "price_unit": "USD",
                "sid": sid,
                "status": "queued",
                "subresource_uris": {
                    "media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
                },
                "to": to,
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
                "_callback": callback,
            }
            self.messages[sid] = message
            return message

    def _callback(self, message: dict[str, Any]) -> Webhook | None:
        url = message.get("_callback")
        if not url:
            return None
        form = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": message["from"],
            "To": message["to"],
            "MessageSid": message["sid"],
            "SmsSid": message["sid"],
            "MessageStatus": message["status"],
            "SmsStatus": message["status"],
        }
        if message.get("error_code"):
            form["ErrorCode"] = str(message["error_code"])
        return Webhook(url, form, self.sign(url, form))

    def advance(
        self, sid: str | None = None, outcome: str = "delivered", error_code: int | None = None
    ) -> list[Webhook]:
        """Move queued messages (one, or all) to `outcome` via `sent`; returns the callbacks."""
        hooks: list[Webhook] = []
        with self.lock:
            targets = [self.messages[sid]] if sid else self.outbound()
            for message in targets:
                if message["status"] not in ("queued", "sent"):
                    continue
                steps = ["sent", outcome] if message["status"] == "queued" else [outcome]
                if outcome == "failed":
                    steps = ["failed"]
                for status in dict.fromkeys(steps):
                    message["status"] = status
                    message["date_updated"] = format_datetime(datetime.now(UTC), usegmt=True)
                    if status == "sent":
                        message["date_sent"] = message["date_updated"]
                    if status in ("undelivered", "failed"):
                        message["error_code"] = error_code or 30003
                        message["error_message"] = "Unreachable destination handset"
                    hook = self._callback(message)
                    if hook:
                        hooks.append(hook)
        return hooks

    def inbound(self, from_number: str, body: str) -> Webhook | None:
        """A customer texts our number: handle STOP/START like Twilio, return the webhook owed."""
        word = body.strip().upper()
        with self.lock:
            if word in STOP_WORDS:
                self.opted_out.add(from_number)
            elif word in START_WORDS:
                self.opted_out.discard(from_number)
            sid = self._sid("SM")
            self.messages[sid] = {
                "sid": sid,
                "direction": "inbound",
                "from": from_number,
                "to": self.from_number,
                "body": body,
                "status": "received",
            }
        if not self.inbound_url:
            return None
        form = {
            "ToCountry": "US",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "SmsSid": sid,
            "SmsStatus": "received",
            "Body": body,
            "To": self.from_number,
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_number,
            "ApiVersion": "2010-04-01",
        }
        return Webhook(self.inbound_url, form, self.sign(self.inbound_url, form))


def deliver(hooks: list[Webhook], timeout: float = 10.0) -> list[int]:
    """POST webhooks synchronously (in-process drivers); returns the receivers' status codes."""
    import httpx

    codes = []
    with httpx.Client(timeout=timeout) as client:
        for hook in hooks:
            response = client.post(
                hook.url, data=hook.form, headers={"X-Twilio-Signature": hook.signature}
            )
            codes.append(response.status_code)
    return codes
