"""Working time on business-hours calendars: the pure functions behind every SLA clock."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from sla.calendar import (
    ALWAYS,
    Calendar,
    add_working_minutes,
    subtract_working_time,
    working_minutes_between,
)

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def office(*, holidays=(), time_zone="Europe/Berlin", start="09:00", end="17:00", days=WEEKDAYS):
    return Calendar.from_spec(
        time_zone=time_zone,
        weekly=[{"day": day, "start": start, "end": end} for day in days],
        holidays=list(holidays),
    )


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def test_minutes_inside_one_working_day_are_plain_minutes():
    assert add_working_minutes(office(), berlin(2026, 3, 4, 10, 0), 90) == berlin(2026, 3, 4, 11, 30)


def test_a_target_crossing_the_end_of_the_day_continues_the_next_morning():
    # Wednesday 16:30 + 60 working minutes: 30 today, 30 on Thursday from 09:00.
    due = add_working_minutes(office(), berlin(2026, 3, 4, 16, 30), 60)
    assert due == berlin(2026, 3, 5, 9, 30)
    assert working_minutes_between(office(), berlin(2026, 3, 4, 16, 30), due) == 60


def test_a_night_shift_interval_runs_over_midnight():
    nights = Calendar.from_spec(
        time_zone="Europe/Berlin",
        weekly=[
            {"day": day, "start": "22:00", "end": "06:00"}
            for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        ],
        holidays=[],
    )
    # Tuesday 23:30 + 60 minutes crosses midnight inside the same shift.
    assert add_working_minutes(nights, berlin(2026, 3, 3, 23, 30), 60) == berlin(2026, 3, 4, 0, 30)
    # Started at 05:30, 60 minutes: 30 now, 30 from 22:00 that evening.
    assert add_working_minutes(nights, berlin(2026, 3, 4, 5, 30), 60) == berlin(2026, 3, 4, 22, 30)


def test_the_weekend_is_skipped():
    # Friday 16:00 + 120 minutes: 60 on Friday, 60 on Monday.
    due = add_working_minutes(office(), berlin(2026, 3, 6, 16, 0), 120)
    assert due == berlin(2026, 3, 9, 10, 0)
    assert working_minutes_between(office(), berlin(2026, 3, 6, 16, 0), berlin(2026, 3, 9, 10, 0)) == 120
    # A ticket opened on Saturday starts counting on Monday morning.
    assert add_working_minutes(office(), berlin(2026, 3, 7, 12, 0), 30) == berlin(2026, 3, 9, 9, 30)


def test_a_holiday_is_skipped():
    christmas = office(holidays=["2026-12-25"])
    # Thursday 24 Dec 16:00 + 120 minutes: 60 on Thursday, Friday is a holiday, then the
    # weekend, so 60 on Monday 28 Dec.
    assert add_working_minutes(christmas, berlin(2026, 12, 24, 16, 0), 120) == berlin(2026, 12, 28, 10, 0)
    assert (
        working_minutes_between(christmas, berlin(2026, 12, 24, 0, 0), berlin(2026, 12, 29, 0, 0))
        == 2 * 8 * 60
    )


def test_office_hours_keep_their_wall_clock_across_the_spring_change():
    # Clocks go forward on Sunday 29 March 2026 in Berlin: Friday 16:00 CET + 120 min is
    # Monday 10:00 CEST, which is 08:00 UTC (not 09:00).
    due = add_working_minutes(office(), berlin(2026, 3, 27, 16, 0), 120)
    assert due == berlin(2026, 3, 30, 10, 0)
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def test_a_24_hour_calendar_has_a_23_hour_day_in_march_and_a_25_hour_day_in_october():
    every_day = office(start="00:00", end="24:00", days=("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    assert working_minutes_between(every_day, berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 30, 0, 0)) == 23 * 60
    assert (
        working_minutes_between(every_day, berlin(2026, 10, 25, 0, 0), berlin(2026, 10, 26, 0, 0)) == 25 * 60
    )
    # 24 working hours from Saturday midnight before the spring change end on Monday 01:00.
    assert add_working_minutes(every_day, berlin(2026, 3, 28, 0, 0), 48 * 60) == berlin(2026, 3, 30, 1, 0)


def test_the_always_calendar_is_wall_clock_time():
    start = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    assert add_working_minutes(ALWAYS, start, 24 * 60) == start + timedelta(days=1)
    assert working_minutes_between(ALWAYS, start, start + timedelta(hours=5)) == 300


def test_counting_backwards_from_a_due_time_finds_the_warning_instant():
    # 60 working minutes before Monday 09:30 is Friday 16:30.
    assert subtract_working_time(office(), berlin(2026, 3, 9, 9, 30), timedelta(minutes=60)) == berlin(
        2026, 3, 6, 16, 30
    )


def test_a_calendar_in_another_time_zone_counts_its_own_hours():
    new_york = office(time_zone="America/New_York")
    # 09:00 in New York is 15:00 in Berlin (both in winter time).
    due = add_working_minutes(new_york, berlin(2026, 1, 12, 14, 0), 30)
    assert due == berlin(2026, 1, 12, 15, 30)


@pytest.mark.parametrize("minutes", [1, 59, 480, 481, 2400, 10_000])
def test_adding_then_counting_gives_back_the_same_minutes(minutes):
    calendar = office(holidays=["2026-04-03", "2026-04-06"])
    start = berlin(2026, 3, 26, 13, 17)
    due = add_working_minutes(calendar, start, minutes)
    assert working_minutes_between(calendar, start, due) == minutes


def test_frozen_time_does_not_change_pure_arithmetic(time_machine):
    # The functions never read the clock: the same answer before and after travel.
    time_machine.move_to(datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    before = add_working_minutes(office(), berlin(2026, 10, 23, 16, 0), 120)
    time_machine.shift(timedelta(days=3))
    assert (
        add_working_minutes(office(), berlin(2026, 10, 23, 16, 0), 120)
        == before
        == berlin(2026, 10, 26, 10, 0)
    )


def test_autumn_change_keeps_office_hours_on_the_wall_clock():
    # Clocks go back on Sunday 25 October 2026: Friday 16:00 CEST + 120 min is Monday
    # 10:00 CET, i.e. 09:00 UTC.
    with time_machine.travel(datetime(2026, 10, 23, 14, 0, tzinfo=UTC), tick=False):
        due = add_working_minutes(office(), berlin(2026, 10, 23, 16, 0), 120)
    assert due.astimezone(UTC) == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)
