"""Standard Webhooks signatures: `webhook-signature: v1,<base64 HMAC-SHA256>` over
`{webhook-id}.{webhook-timestamp}.{body}` with the subscription's `whsec_` secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

WHSEC_PREFIX = "whsec_"


def new_secret() -> str:
    return WHSEC_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret; raises ValueError if it is not one."""
    if not secret.startswith(WHSEC_PREFIX):
        raise ValueError("the secret must start with whsec_")
    key = base64.b64decode(secret[len(WHSEC_PREFIX) :], validate=True)
    if not 24 <= len(key) <= 64:
        raise ValueError("the secret must hold 24 to 64 random bytes")
    return key


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
        "content-type": "application/json",
    }


def secret_context(subscription_id: str) -> str:
    """What a subscription's signing secret is bound to when sealed at rest (sealing/)."""
    return f"webhook_subscription:{subscription_id}"
