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


API = RateLimit("api-test", limit=600, window_seconds=60)


@pytest.mark.django_db
def test_admission_counts_a_share_at_a_time_and_every_admitted_request_is_counted(
    django_assert_num_queries, django_assert_max_num_queries
):
    # A share of 32 (a sixteenth of 600, capped); the window starts, so old rows are swept.
    with django_assert_max_num_queries(2):
        assert API.admit("key-1").admitted
    with django_assert_num_queries(0):
        assert all(API.admit("key-1").admitted for _ in range(31))
    with django_assert_num_queries(1):
        assert API.admit("key-1").admitted
    assert API.count("key-1") == 64


@pytest.mark.django_db
def test_admission_never_passes_the_limit_across_processes_sharing_it():
    small = RateLimit("api-small", limit=40, window_seconds=60)
    # Another process took most of the window: this one gets what is left, then nothing.
    small.record("key-2", amount=37)
    admitted = [small.admit("key-2").admitted for _ in range(6)]
    assert admitted == [True, True, True, False, False, False]
    refused = small.admit("key-2")
    assert not refused.admitted
    assert 59 <= refused.seconds_left <= 61


@pytest.mark.django_db
def test_a_share_ends_with_its_window(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    small = RateLimit("api-window", limit=3, window_seconds=60)
    assert [small.admit("key-3").admitted for _ in range(4)] == [True, True, True, False]
    time_machine.shift(timedelta(seconds=61))
    assert small.admit("key-3").admitted
    assert small.count("key-3") == 1
