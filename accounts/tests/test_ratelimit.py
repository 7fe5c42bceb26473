"""Rate limits count in the database: exact across connections, windows that end."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import RateCounter
from accounts.ratelimit import RateLimit

LIMIT = RateLimit("test", limit=3, window_seconds=60)


@pytest.mark.django_db
def test_hits_count_up_within_a_window_and_each_ident_counts_alone():
    assert [LIMIT.hit("a@example.com") for _ in range(4)] == [1, 2, 3, 4]
    assert LIMIT.exceeded("A@example.com ")  # the same ident, however it is written
    assert LIMIT.count("b@example.com") == 0
    assert not LIMIT.exceeded("b@example.com")


@pytest.mark.django_db
def test_a_window_that_ended_starts_again_at_one(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    LIMIT.hit("x")
    LIMIT.hit("x")
    time_machine.shift(timedelta(seconds=61))
    assert LIMIT.count("x") == 0
    window = LIMIT.record("x")
    assert window.count == 1
    assert 59 <= window.seconds_left <= 61


@pytest.mark.django_db
def test_counters_of_windows_over_a_day_old_are_swept_when_a_window_starts(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    for ident in ("old-1", "old-2"):
        LIMIT.hit(ident)
    time_machine.shift(timedelta(days=2))
    LIMIT.hit("new")
    assert list(RateCounter.objects.values_list("count", flat=True)) == [1]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_hits_from_many_connections_are_each_counted_once():
    start = threading.Barrier(20)
    counts = []

    def hit():
        try:
            start.wait(timeout=30)
            counts.append(LIMIT.hit("shared"))
        finally:
            connection.close()

    threads = [threading.Thread(target=hit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(counts) == list(range(1, 21))
    assert LIMIT.count("shared") == 20
