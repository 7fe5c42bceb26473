"""Signatures per the Standard Webhooks specification, made with its own Python library.

``webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``, keyed with
the bytes the ``whsec_`` secret encodes. During a rotation's overlap both the new and the
previous secret sign, space-separated, so a receiver holding either verifies.
"""

import base64
import os
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - the kind of secret, not one
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode()


def signature_header(secrets: list[str], *, message_id: str, timestamp: int, body: str) -> str:
    # The library reads the datetime's wall clock as UTC: hand it a UTC one.
    when = datetime.fromtimestamp(timestamp, tz=UTC)
    return " ".join(Webhook(secret).sign(message_id, when, body) for secret in secrets)
