"""What the simulated SendGrid account knows: sent mails, their events, suppressions, the key.

Every accepted mail gets a `processed` event (or `dropped` when the recipient is suppressed, as
SendGrid does); later events (delivered, bounce, spamreport, unsubscribe) happen when a test or
an operator says so (`advance`). Events are posted, signed with the account's ECDSA key, to the
configured Event Webhook URL, and can also be read back.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

SUPPRESSING = {"bounce": "bounces", "spamreport": "spam_reports", "unsubscribe": "unsubscribes"}


def _digest(seed: int, kind: str, size: int = 16) -> bytes:
    return hashlib.blake2b(f"{seed}:{kind}".encode(), digest_size=size).digest()


@dataclass
class EventPost:
    """One Event Webhook POST the simulator owes a receiver."""

    url: str
    body: bytes
    headers: dict[str, str]


@dataclass
class SendGridState:
    seed: int = 1
    api_key: str = ""
    from_email: str = "service@perfectcatch.example"
    event_webhook_url: str = ""
    mails: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    suppressed: dict[str, str] = field(default_factory=dict)
    send_requests: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)
    _counter: int = 0

    def __post_init__(self) -> None:
        secret = int.from_bytes(_digest(self.seed, "ecdsa", 32)) % (2**255) + 1
        self._key = ec.derive_private_key(secret, ec.SECP256R1())
        token = base64.urlsafe_b64encode(_digest(self.seed, "key", 33)).decode()
        self.api_key = self.api_key or f"SG.{token[:22]}.{token[22:]}"

    @property
    def public_key(self) -> str:
        """The verification key as SendGrid shows it (base64 DER, no PEM armour)."""
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def sign(self, body: bytes, timestamp: str) -> str:
        signature = self._key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(signature).decode()

    def _event(self, mail: dict[str, Any], name: str, **extra: Any) -> dict[str, Any]:
        self._counter += 1
        event = {
            "email": mail["to"],
            "timestamp": int(time.time()),
            "event": name,
            "sg_event_id": base64.urlsafe_b64encode(
                _digest(self.seed, f"event:{self._counter}", 16)
            )
            .decode()
            .rstrip("="),
            "sg_message_id": f"{mail['id']}.filterdrecv-sim-1-{self._counter}",
            "smtp-id": f"<{mail['id']}@sim.sendgrid.net>",
            **mail["custom_args"],
            **extra,
        }
        self.events.append(event)
        return event

    def accept(self, to: str, subject: str, custom_args: dict[str, str]) -> tuple[str, list]:
        """Record an accepted mail; returns its X-Message-Id and the events it causes now."""
        with self.lock:
            self._counter += 1
            msg_id = (
                base64.urlsafe_b64encode(_digest(self.seed, f"mail:{self._counter}", 16))
                .decode()
                .rstrip("=")[:22]
            )
            mail = {
                "id": msg_id,
                "to": to.lower(),
                "subject": subject,
                "custom_args": dict(custom_args),
                "status": "processed",
                "created": int(time.time()),
            }
            self.mails[msg_id] = mail
            reason = self.suppressed.get(mail["to"])
            if reason:
                mail["status"] = "not_delivered"
                return msg_id, [self._event(mail, "dropped", reason=reason)]
            return msg_id, [self._event(mail, "processed")]

    def advance(self, msg_id: str | None = None, event: str = "delivered") -> list[dict]:
        """Give one mail (or every processed one) its next event; returns the events."""
        out = []
        with self.lock:
            targets = [self.mails[msg_id]] if msg_id else list(self.mails.values())
            for mail in targets:
                if mail["status"] not in ("processed", "delivered"):
                    continue
                extra: dict[str, Any] = {}
                if event == "bounce":
                    extra = {
                        "reason": "550 5.1.1 The email account does not exist",
                        "type": "bounce",
                    }
                    mail["status"] = "not_delivered"
                elif event == "delivered":
                    if mail["status"] == "delivered":
                        continue
                    extra = {"response": "250 OK"}
                    mail["status"] = "delivered"
                if event in SUPPRESSING:
                    self.suppressed[mail["to"]] = SUPPRESSING[event]
                out.append(self._event(mail, event, **extra))
        return out

    def activity(self, key: str, value: str) -> list[dict[str, Any]]:
        """Email Activity API rows of mails whose custom arg `key` is `value`."""
        with self.lock:
            return [
                {
                    "from_email": self.from_email,
                    "msg_id": mail["id"],
                    "subject": mail["subject"],
                    "to_email": mail["to"],
                    "status": mail["status"],
                    "opens_count": 0,
                    "clicks_count": 0,
                    # Documented as ISO 8601 UTC ("2017-10-13T18:56:21Z"), not epoch seconds.
                    "last_event_time": time.strftime(
                        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(mail["created"])
                    ),
                }
                for mail in self.mails.values()
                if mail["custom_args"].get(key) == value
            ]

    def post_for(self, events: list[dict[str, Any]]) -> EventPost | None:
        """The signed Event Webhook POST carrying `events`, if a URL is configured."""
        if not events or not self.event_webhook_url:
            return None
        body = orjson.dumps(events)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": self.sign(body, timestamp),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        }
        return EventPost(self.event_webhook_url, body, headers)


def deliver(posts: list[EventPost | None], timeout: float = 10.0) -> list[int]:
    """POST event batches synchronously (in-process drivers); returns the status codes."""
    import httpx

    codes = []
    with httpx.Client(timeout=timeout) as client:
        for post in posts:
            if post is not None:
                codes.append(
                    client.post(post.url, content=post.body, headers=post.headers).status_code
                )
    return codes
