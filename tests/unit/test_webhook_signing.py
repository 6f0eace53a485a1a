"""Our Standard Webhooks signatures verify with the `standardwebhooks` reference library, and
back-off grows exponentially within its cap."""

from __future__ import annotations

import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from changes import signing
from changes.dispatcher import backoff_seconds
from changes.webhook_settings import WebhookSettings


def test_reference_library_accepts_our_signature() -> None:
    secret = signing.new_secret()
    body = b'{"type":"encounter.reported","data":{"event":"detained"}}'
    headers = signing.headers(secret, "msg_abc", int(time.time()), body)
    assert Webhook(secret).verify(body, headers) is not None


def test_reference_library_refuses_a_changed_body_or_secret() -> None:
    secret = signing.new_secret()
    body = b'{"a":1}'
    headers = signing.headers(secret, "msg_abc", int(time.time()), body)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"a":2}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers)


def test_secrets_must_be_whsec_with_enough_entropy() -> None:
    with pytest.raises(ValueError):
        signing.secret_key("plain-password")
    with pytest.raises(ValueError):
        signing.secret_key("whsec_" + "QUJD")  # 3 bytes


def test_backoff_doubles_until_the_cap() -> None:
    settings = WebhookSettings(
        backoff_base_seconds=1.0, backoff_max_seconds=10.0, backoff_jitter=0.2
    )
    delays = [backoff_seconds(n, settings, 0.0) for n in range(1, 7)]
    assert delays == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert backoff_seconds(3, settings, 1.0) == pytest.approx(3.2)
