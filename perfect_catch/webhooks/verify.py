"""Signature checks of incoming webhooks, one per provider, each with the provider's own scheme.

- Twilio: `X-Twilio-Signature`, HMAC-SHA1 over the public URL and the form, checked with the
  SDK's `RequestValidator` and the account's auth token.
- SendGrid: the Signed Event Webhook, ECDSA P-256 over timestamp + raw body, checked with the
  SDK's `EventWebhook` helper and the verification key from the SendGrid console.
- GoHighLevel: `x-wh-signature`, RSA-SHA256 (PKCS#1 v1.5) over the raw body, checked against
  the public key GHL publishes for its webhooks.

Each function answers True/False and never raises or logs the secret it used.
"""

from __future__ import annotations

import base64
import binascii
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sendgrid.helpers.eventwebhook import EventWebhook
from twilio.request_validator import RequestValidator

#: Signed SendGrid posts older than this are refused (replay protection).
SENDGRID_MAX_AGE_SECONDS = 600


def twilio_valid(auth_token: str, url: str, form: dict[str, str], signature: str) -> bool:
    if not auth_token or not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, form, signature))


def sendgrid_valid(public_key: str, body: bytes, signature: str, timestamp: str) -> bool:
    if not public_key or not signature or not timestamp:
        return False
    try:
        if abs(time.time() - int(timestamp)) > SENDGRID_MAX_AGE_SECONDS:
            return False
        helper = EventWebhook(public_key)
        return bool(helper.verify_signature(body.decode("utf-8"), signature, timestamp))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return False


def ghl_valid(public_key_pem: str, body: bytes, signature: str) -> bool:
    if not public_key_pem or not signature:
        return False
    try:
        key = load_pem_public_key(public_key_pem.encode())
        if not isinstance(key, rsa.RSAPublicKey):
            return False
        key.verify(base64.b64decode(signature), body, padding.PKCS1v15(), hashes.SHA256())
        return True
    except (InvalidSignature, ValueError, TypeError, binascii.Error):
        return False
