"""Counters in the shared cache (Redis in production) that slow down guessing and spam.

Fixed windows: the first hit starts the window, later hits count up until it expires.
Good enough to make guessing a 192-bit key or flooding the support form pointless,
and shared by every web process because it lives in the cache.
"""

import hashlib
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class RateLimit:
    name: str
    limit: int
    window_seconds: int

    def _key(self, ident: str) -> str:
        digest = hashlib.sha256(ident.strip().lower().encode()).hexdigest()[:32]
        return f"portal:rate:{self.name}:{digest}"

    def count(self, ident: str) -> int:
        return cache.get(self._key(ident), 0)

    def exceeded(self, ident: str) -> bool:
        return self.count(ident) >= self.limit

    def hit(self, ident: str) -> int:
        key = self._key(ident)
        cache.add(key, 0, self.window_seconds)
        try:
            return cache.incr(key)
        except ValueError:
            # The window expired between add and incr.
            cache.set(key, 1, self.window_seconds)
            return 1

    def reset(self, ident: str) -> None:
        cache.delete(self._key(ident))


# A private link with a wrong key (or an unknown ticket): 20 misses in 15 minutes from one
# address and that address gets 429 on every private link until the window ends.
KEY_GUESSES = RateLimit("key-guesses", limit=20, window_seconds=15 * 60)

# The support form: new tickets per sender address and per client address.
SUPPORT_FORM_PER_EMAIL = RateLimit("support-email", limit=5, window_seconds=60 * 60)
SUPPORT_FORM_PER_IP = RateLimit("support-ip", limit=20, window_seconds=60 * 60)

# Portal sign-in links: per email asked for, and per client address.
SIGNIN_PER_EMAIL = RateLimit("signin-email", limit=5, window_seconds=60 * 60)
SIGNIN_PER_IP = RateLimit("signin-ip", limit=20, window_seconds=60 * 60)
