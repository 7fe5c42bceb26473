"""Fixed-window rate limits whose counters are rows in the database.

Why the database and not the cache: a limit that each web process (or each cache node)
counts on its own is not a limit; a one-use link worked four times across four gunicorn
workers. Here a hit is one statement, ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``,
which PostgreSQL and SQLite both run atomically on the counter's row, so the count is exact
across processes and machines; and it holds while the cache (Redis) is down, so no limit
has to choose between failing open and answering 500. The first hit starts the window;
later hits count up until it ends, then the next hit starts a new one.

A limit that every API request meets (``RateLimit.admit``) takes the window's allowance in
shares instead of one statement per request: the process counts a share of several
requests at once in the same statement and admits the next ones from it without asking
the database. The counter still counts every admitted request, so no window admits more
than the limit across all processes; shares shrink to a single request as the window
fills, so what other processes hold unused refuses at most a few requests early.
"""

import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone

from .models import RateCounter

# Rows of windows that ended longer ago than this are deleted when a window starts.
STALE_AFTER = timedelta(days=1)
# A share is at most this many requests, and a sixteenth of what the window has left.
MAX_SHARE = 32
# Shares of this process beyond this many counters: those of ended windows are dropped.
MAX_SHARES_KEPT = 10_000

_TABLE = RateCounter._meta.db_table
# Against the row as it was (both databases evaluate every SET expression on the old row):
# an ended window starts again at 1, a running one counts up.
_HIT_SQL = f"""
    INSERT INTO {_TABLE} (key, count, expires_at) VALUES (%s, %s, %s)
    ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN {_TABLE}.expires_at <= %s THEN excluded.count
                     ELSE {_TABLE}.count + excluded.count END,
        expires_at = CASE WHEN {_TABLE}.expires_at <= %s THEN excluded.expires_at
                          ELSE {_TABLE}.expires_at END
    RETURNING count, expires_at
"""  # noqa: S608 - the table name is ours; every value is a parameter


@dataclass(frozen=True)
class Window:
    count: int
    ends_at: datetime

    @property
    def seconds_left(self) -> int:
        return max(1, int((self.ends_at - timezone.now()).total_seconds()) + 1)


@dataclass(frozen=True)
class Admission:
    admitted: bool
    ends_at: datetime

    @property
    def seconds_left(self) -> int:
        return max(1, int((self.ends_at - timezone.now()).total_seconds()) + 1)


@dataclass
class _Share:
    left: int
    ends_at: datetime
    # The window's count when the share was taken: what the next share is sized by.
    count: int


_shares: dict[str, _Share] = {}
_shares_lock = threading.Lock()


def forget_shares() -> None:
    """Drop this process's shares (tests whose database rolls back counters)."""
    with _shares_lock:
        _shares.clear()


@dataclass(frozen=True)
class RateLimit:
    name: str
    limit: int
    window_seconds: int

    def _key(self, ident: str) -> str:
        digest = hashlib.sha256(str(ident).strip().lower().encode("utf-8", "replace")).hexdigest()[:40]
        return f"{self.name}:{digest}"

    def count(self, ident: str) -> int:
        counter = RateCounter.objects.filter(key=self._key(ident), expires_at__gt=timezone.now()).first()
        return counter.count if counter is not None else 0

    def exceeded(self, ident: str) -> bool:
        return self.count(ident) >= self.limit

    def record(self, ident: str, amount: int = 1) -> Window:
        """Counts one event (or ``amount`` at once); the window it fell in, with the count so
        far (these included)."""
        return self._record(self._key(ident), amount)

    def admit(self, ident: str) -> Admission:
        """Whether one more request is within the limit, counted from this process's share.

        Only when the share is used up (or its window ended) does the database count the
        next share; a share taken past the limit holds only what was left under it.
        """
        key = self._key(ident)
        now = timezone.now()
        with _shares_lock:
            share = _shares.get(key)
            if share is not None and share.left > 0 and share.ends_at > now:
                share.left -= 1
                return Admission(admitted=True, ends_at=share.ends_at)
        fresh = share is None or share.ends_at <= now
        known_count = 0 if fresh else share.count
        size = max(1, min(MAX_SHARE, (self.limit - known_count) // 16))
        window = self._record(key, size)
        granted = max(0, min(size, self.limit - (window.count - size)))
        with _shares_lock:
            if len(_shares) >= MAX_SHARES_KEPT:
                for stale in [name for name, kept in _shares.items() if kept.ends_at <= now]:
                    del _shares[stale]
            _shares[key] = _Share(left=max(0, granted - 1), ends_at=window.ends_at, count=window.count)
        return Admission(admitted=granted > 0, ends_at=window.ends_at)

    def _record(self, key: str, amount: int) -> Window:
        now = timezone.now()
        adapt = connection.ops.adapt_datetimefield_value
        with connection.cursor() as cursor:
            cursor.execute(
                _HIT_SQL,
                [
                    key,
                    amount,
                    adapt(now + timedelta(seconds=self.window_seconds)),
                    adapt(now),
                    adapt(now),
                ],
            )
            count, ends_at = cursor.fetchone()
        if count == amount:
            # A window starts: the moment to forget counters nobody has hit for a day, so the
            # table holds recent clients only (an indexed range delete, usually of nothing).
            RateCounter.objects.filter(expires_at__lt=now - STALE_AFTER).delete()
        if isinstance(ends_at, str):  # SQLite returns the stored text
            ends_at = datetime.fromisoformat(ends_at)
        if timezone.is_naive(ends_at):
            ends_at = ends_at.replace(tzinfo=UTC)
        return Window(count=count, ends_at=ends_at)

    def hit(self, ident: str) -> int:
        """Counts one event and returns the count in the window, this event included."""
        return self.record(ident).count

    def reset(self, ident: str) -> None:
        RateCounter.objects.filter(key=self._key(ident)).delete()
