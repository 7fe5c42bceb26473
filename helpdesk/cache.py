"""The Redis cache, degrading instead of failing when Redis is unreachable.

Rule (docs/security.md, "Cache down"): with Redis down, every read is a miss and every
write is dropped, and the outage is logged (at most once a minute per process, so an
outage does not flood the log). Nothing that must be exact lives in the cache (limits and
lockouts count in the database), so a miss only costs work: the portal renders the thread
again instead of reading its cached fragment. ``/readyz`` reports the outage (``ping``).
"""

import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Errors that mean "Redis is not answering", not a bug of ours.
UNREACHABLE = (RedisError, OSError)
LOG_EVERY_SECONDS = 60


class DegradingRedisCache(RedisCache):
    _last_logged = 0.0

    def _unavailable(self, operation: str, error: Exception) -> None:
        now = time.monotonic()
        if now - DegradingRedisCache._last_logged >= LOG_EVERY_SECONDS:
            DegradingRedisCache._last_logged = now
            logger.error(
                "Cache unavailable (%s failed: %s): reads miss and writes are dropped until it is back",
                operation,
                error,
            )

    def ping(self) -> None:
        """Raises when Redis does not answer (for the readiness check)."""
        self._cache.get_client(write=True).ping()

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except UNREACHABLE as error:
            self._unavailable("get", error)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except UNREACHABLE as error:
            self._unavailable("get_many", error)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except UNREACHABLE as error:
            self._unavailable("has_key", error)
            return False

    def add(self, key, value, timeout=None, version=None):
        # Dropped: nothing was added. Callers that need "exactly once" use the database.
        try:
            return super().add(key, value, timeout, version)
        except UNREACHABLE as error:
            self._unavailable("add", error)
            return False

    def set(self, key, value, timeout=None, version=None):
        try:
            super().set(key, value, timeout, version)
        except UNREACHABLE as error:
            self._unavailable("set", error)

    def set_many(self, data, timeout=None, version=None):
        try:
            return super().set_many(data, timeout, version)
        except UNREACHABLE as error:
            self._unavailable("set_many", error)
            return list(data)

    def touch(self, key, timeout=None, version=None):
        try:
            return super().touch(key, timeout, version)
        except UNREACHABLE as error:
            self._unavailable("touch", error)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except UNREACHABLE as error:
            self._unavailable("delete", error)
            return False

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version)
        except UNREACHABLE as error:
            self._unavailable("delete_many", error)

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except UNREACHABLE as error:
            self._unavailable("incr", error)
            raise ValueError(f"Key '{key}' not found (cache unavailable).") from error

    def clear(self):
        try:
            return super().clear()
        except UNREACHABLE as error:
            self._unavailable("clear", error)
            return False
