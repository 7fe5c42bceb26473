"""Bearer secrets: recognisable by their prefix, random enough, stored as hashes.

A secret looks like ``hdc_3fK9q2LmZx7A.<43 url-safe characters>``: the kind prefix
says what it is when it turns up in a log or a leak scanner; the lookup part is stored in
clear so the row is found with one indexed query; the whole secret is stored only as a
SHA-256 hash (the secret has ~256 bits of randomness, so a slow hash buys nothing) and
compared in constant time.
"""

import hashlib
import secrets
from dataclasses import dataclass

from django.utils.crypto import constant_time_compare, get_random_string

LOOKUP_LENGTH = 12


@dataclass(frozen=True)
class NewSecret:
    plaintext: str
    lookup: str
    hashed: str


def hash_secret(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def make_secret(kind_prefix: str) -> NewSecret:
    lookup = get_random_string(LOOKUP_LENGTH)
    plaintext = f"{kind_prefix}_{lookup}.{secrets.token_urlsafe(32)}"
    return NewSecret(plaintext=plaintext, lookup=lookup, hashed=hash_secret(plaintext))


def parse_lookup(plaintext: str, kind_prefix: str) -> str | None:
    """The lookup part of a secret of this kind, or None if it is not one."""
    head, dot, _ = plaintext.partition(".")
    expected_start = f"{kind_prefix}_"
    if not dot or not head.startswith(expected_start):
        return None
    lookup = head.removeprefix(expected_start)
    return lookup if len(lookup) == LOOKUP_LENGTH and lookup.isalnum() else None


def secret_matches(plaintext: str, hashed: str) -> bool:
    return constant_time_compare(hash_secret(plaintext), hashed)
