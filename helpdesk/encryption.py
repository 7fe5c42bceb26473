"""Secrets we must read back (mailbox passwords), encrypted at rest.

Fernet (AES-128-CBC with HMAC-SHA256) under a key derived from SECRET_KEY, so a database
dump alone does not reveal them; passwords written under a key since moved to
SECRET_KEY_FALLBACKS still decrypt, and are written again under the new key on the next
save.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

_CONTEXT = b"helpdesk.mailbox-password"


def _fernet(secret: str) -> Fernet:
    key = hashlib.sha256(_CONTEXT + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _keys() -> MultiFernet:
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet(secret) for secret in secrets])


def encrypt(plaintext: str) -> str:
    return _keys().encrypt(plaintext.encode()).decode() if plaintext else ""


def decrypt(token: str) -> str:
    """The password; "" when none is stored or no key opens it (SECRET_KEY changed)."""
    if not token:
        return ""
    try:
        return _keys().decrypt(token.encode()).decode()
    except InvalidToken:
        return ""
