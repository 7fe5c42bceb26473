"""Working time: pure functions over a business-hours calendar (no database, no clock).

A ``Calendar`` is a time zone, the working intervals of each weekday in wall-clock time,
and holidays (local dates with no working time). ``add_working_time`` answers "when is
this much working time used up, starting now"; ``working_time_between`` answers "how much
working time lies between these two instants". Both work on aware datetimes and answer in
UTC, so daylight-saving changes are handled by the time zone database: a working day of
09:00-17:00 is eight hours on the day the clocks change, while a 24-hour day in
Europe/Berlin has 23 or 25 of them. ``ALWAYS`` (24/7) is plain arithmetic.

An interval whose end is not after its start runs over midnight into the next day
("22:00"-"06:00"); "24:00" as an end is midnight at the end of the day. A holiday removes
the intervals that start on that local date.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Search at most this far ahead for working time (holidays can remove whole years only
# by mistake; a calendar without any working time is refused when it is saved).
HORIZON_DAYS = 3 * 366


def parse_clock(value: str) -> time | None:
    """``"HH:MM"`` as a time; ``"24:00"`` is midnight (the end of the day). None if bad."""
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return None
    hours, minutes = value[:2], value[3:]
    if not (hours.isdigit() and minutes.isdigit()):
        return None
    hour, minute = int(hours), int(minutes)
    if (hour, minute) == (24, 0):
        return time(0, 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


@dataclass(frozen=True)
class Calendar:
    time_zone: str = "UTC"
    # weekday (0 = Monday) -> ((start, end), ...) in wall-clock time
    weekly: dict[int, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    always: bool = False

    @classmethod
    def from_spec(cls, *, time_zone: str, weekly: list[dict], holidays: list[str]) -> "Calendar":
        """From the stored (and validated) shape: ``[{"day", "start", "end"}]`` and ISO dates."""
        days: dict[int, list[tuple[time, time]]] = {}
        for entry in weekly:
            days.setdefault(DAYS.index(entry["day"]), []).append(
                (parse_clock(entry["start"]), parse_clock(entry["end"]))
            )
        return cls(
            time_zone=time_zone,
            weekly={day: tuple(sorted(intervals)) for day, intervals in days.items()},
            holidays=frozenset(date.fromisoformat(day) for day in holidays),
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def intervals_from(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals (UTC, in order, not overlapping) from ``instant`` on."""
        instant = instant.astimezone(UTC)
        if self.always:
            yield instant, datetime.max.replace(tzinfo=UTC)
            return
        zone = self.zone
        # From the day before: an interval over midnight may still be running.
        day = instant.astimezone(zone).date() - timedelta(days=1)
        cursor = instant
        for _ in range(HORIZON_DAYS):
            if day not in self.holidays:
                for start_clock, end_clock in self.weekly.get(day.weekday(), ()):
                    end_day = day + timedelta(days=1) if end_clock <= start_clock else day
                    start = datetime.combine(day, start_clock, tzinfo=zone).astimezone(UTC)
                    end = datetime.combine(end_day, end_clock, tzinfo=zone).astimezone(UTC)
                    if end <= cursor:
                        continue
                    yield max(start, cursor), end
                    cursor = end
            day += timedelta(days=1)

    def intervals_before(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals (UTC, latest first, not overlapping) before ``instant``."""
        instant = instant.astimezone(UTC)
        if self.always:
            yield datetime.min.replace(tzinfo=UTC), instant
            return
        zone = self.zone
        day = instant.astimezone(zone).date()
        cursor = instant
        for _ in range(HORIZON_DAYS):
            if day not in self.holidays:
                for start_clock, end_clock in reversed(self.weekly.get(day.weekday(), ())):
                    end_day = day + timedelta(days=1) if end_clock <= start_clock else day
                    start = datetime.combine(day, start_clock, tzinfo=zone).astimezone(UTC)
                    end = datetime.combine(end_day, end_clock, tzinfo=zone).astimezone(UTC)
                    if start >= cursor:
                        continue
                    yield start, min(end, cursor)
                    cursor = start
            day -= timedelta(days=1)


ALWAYS = Calendar(always=True)


def add_working_time(calendar: Calendar, start: datetime, duration: timedelta) -> datetime | None:
    """The instant at which ``duration`` of working time after ``start`` is used up (UTC);
    None if the calendar has no working time within the horizon."""
    remaining = duration
    for interval_start, interval_end in calendar.intervals_from(start):
        if calendar.always or interval_end - interval_start >= remaining:
            return interval_start + remaining
        remaining -= interval_end - interval_start
    return None


def add_working_minutes(calendar: Calendar, start: datetime, minutes: int) -> datetime | None:
    return add_working_time(calendar, start, timedelta(minutes=minutes))


def subtract_working_time(calendar: Calendar, end: datetime, duration: timedelta) -> datetime | None:
    """The instant ``duration`` of working time before ``end`` (UTC); None if there is none."""
    remaining = duration
    for interval_start, interval_end in calendar.intervals_before(end):
        if calendar.always or interval_end - interval_start >= remaining:
            return interval_end - remaining
        remaining -= interval_end - interval_start
    return None


def working_time_between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """Working time from ``start`` to ``end``; negative when ``end`` is before ``start``."""
    if end < start:
        return -working_time_between(calendar, end, start)
    if calendar.always:
        return end.astimezone(UTC) - start.astimezone(UTC)
    end = end.astimezone(UTC)
    total = timedelta()
    for interval_start, interval_end in calendar.intervals_from(start):
        if interval_start >= end:
            break
        total += min(interval_end, end) - interval_start
    return total


def working_minutes_between(calendar: Calendar, start: datetime, end: datetime) -> float:
    return working_time_between(calendar, start, end).total_seconds() / 60
