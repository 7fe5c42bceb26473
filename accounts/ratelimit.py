"""Fixed-window rate limits whose counters are rows in the database.

Why the database and not the cache: a limit that each web process (or each cache node)
counts on its own is not a limit; a one-use link worked four times across four gunicorn
workers. Here a hit is one statement, ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``,
which PostgreSQL and SQLite both run atomically on the counter's row, so the count is exact
across processes and machines; and it holds while the cache (Redis) is down, so no limit
has to choose between failing open and answering 500. The first hit starts the window;
later hits count up until it ends, then the next hit starts a new one.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone

from .models import RateCounter

# Rows of windows that ended longer ago than this are deleted when a window starts.
STALE_AFTER = timedelta(days=1)

_TABLE = RateCounter._meta.db_table
# Against the row as it was (both databases evaluate every SET expression on the old row):
# an ended window starts again at 1, a running one counts up.
_HIT_SQL = f"""
    INSERT INTO {_TABLE} (key, count, expires_at) VALUES (%s, 1, %s)
    ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN {_TABLE}.expires_at <= %s THEN 1 ELSE {_TABLE}.count + 1 END,
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

    def record(self, ident: str) -> Window:
        """Counts one event; the window it fell in, with the count so far (this one included)."""
        now = timezone.now()
        adapt = connection.ops.adapt_datetimefield_value
        with connection.cursor() as cursor:
            cursor.execute(
                _HIT_SQL,
                [
                    self._key(ident),
                    adapt(now + timedelta(seconds=self.window_seconds)),
                    adapt(now),
                    adapt(now),
                ],
            )
            count, ends_at = cursor.fetchone()
        if count == 1:
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
