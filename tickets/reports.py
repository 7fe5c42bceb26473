"""The numbers behind the reports page, aggregated in the database.

Days are calendar days in the site's time zone (``TIME_ZONE``). Which tickets count:

- *created per day*: tickets created that day;
- *resolved per day*: tickets whose (last) resolution fell on that day (``resolved_at``;
  reopening clears it, so a reopened ticket counts when it is resolved again);
- *status*: tickets created in the range, by the status they have now;
- *median first response*: over tickets created in the range that got a first public
  reply from the organization's side (``first_response_at - created_at``);
- *median resolution*: over tickets resolved in the range (``resolved_at - created_at``).

On PostgreSQL medians are ``percentile_cont(0.5)`` ordered-set aggregates, grouped in the
database, so no ticket rows are loaded into Python. SQLite has no such aggregate: there
the medians are computed from at most ``SQLITE_MEDIAN_ROW_LIMIT`` (start, end) pairs.
"""

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connections
from django.db.models import Aggregate, Count, F, FloatField, Func, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Membership, Organization, User

from .models import Inbox, Ticket

SQLITE_MEDIAN_ROW_LIMIT = 100_000
MAX_RANGE_DAYS = 366


class Median(Aggregate):
    """PostgreSQL's continuous median; NULLs are ignored, as by every aggregate."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class SecondsBetween(Func):
    """``end - start`` in seconds (PostgreSQL); NULL when either is NULL."""

    template = "EXTRACT(EPOCH FROM (%(expressions)s))::double precision"
    arg_joiner = " - "
    output_field = FloatField()

    def __init__(self, start: str, end: str):
        super().__init__(F(end), F(start))


@dataclass(frozen=True)
class ReportFilters:
    organization: Organization
    start: date
    end: date  # inclusive
    inbox: Inbox | None = None
    assignee_id: int | None = None

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=offset) for offset in range((self.end - self.start).days + 1)]

    @property
    def start_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def end_before(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))


def default_range(days: int = 30, *, today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    return today - timedelta(days=days - 1), today


def _tickets(filters: ReportFilters):
    # Months of tickets, aggregated: read from the replica when one is configured.
    tickets = (
        Ticket.objects.using(settings.REPORTS_DATABASE).filter(organization=filters.organization).order_by()
    )
    if filters.inbox is not None:
        tickets = tickets.filter(inbox=filters.inbox)
    if filters.assignee_id is not None:
        tickets = tickets.filter(assignee_id=filters.assignee_id)
    return tickets


def _created(filters: ReportFilters):
    return _tickets(filters).filter(created_at__gte=filters.start_at, created_at__lt=filters.end_before)


def _resolved(filters: ReportFilters):
    return _tickets(filters).filter(resolved_at__gte=filters.start_at, resolved_at__lt=filters.end_before)


@dataclass
class DailyCounts:
    day: date
    created: int = 0
    resolved: int = 0


def daily_counts(filters: ReportFilters) -> list[DailyCounts]:
    """One row per day of the range, zeros included: two GROUP BY day queries."""
    rows = {day: DailyCounts(day) for day in filters.days}
    created = (
        _created(filters).annotate(day=TruncDate("created_at")).values("day").annotate(count=Count("id"))
    )
    for row in created:
        if row["day"] in rows:
            rows[row["day"]].created = row["count"]
    resolved = (
        _resolved(filters).annotate(day=TruncDate("resolved_at")).values("day").annotate(count=Count("id"))
    )
    for row in resolved:
        if row["day"] in rows:
            rows[row["day"]].resolved = row["count"]
    return list(rows.values())


def status_counts(filters: ReportFilters) -> list[tuple[str, str, int]]:
    """``(status, label, count)`` for each status, of the tickets created in the range."""
    counts = dict(_created(filters).values_list("status").annotate(count=Count("id")))
    return [(status.value, status.label, counts.get(status.value, 0)) for status in Ticket.Status]


def _python_medians(queryset, group_field: str | None, start: str, end: str) -> dict:
    """SQLite: median seconds from ``start`` to ``end`` per group, from a bounded sample."""
    durations: dict = {}
    pairs = queryset.filter(**{f"{end}__isnull": False}).values_list(
        group_field or "organization_id", start, end
    )[:SQLITE_MEDIAN_ROW_LIMIT]
    for key, started, ended in pairs:
        durations.setdefault(None if group_field is None else key, []).append(
            (ended - started).total_seconds()
        )
    return {key: statistics.median(values) for key, values in durations.items()}


def _aggregate(queryset, group_field: str | None, **aggregates) -> dict:
    """``{group value: {name: value}}`` in one query; the key is None when not grouped."""
    if group_field is None:
        return {None: queryset.aggregate(**aggregates)}
    return {row.pop(group_field): row for row in queryset.values(group_field).annotate(**aggregates)}


@dataclass
class TimingRow:
    """Counts and medians for one slice (everything, one agent, one inbox)."""

    key: object
    label: str
    created: int = 0
    responded: int = 0
    resolved: int = 0
    median_first_response: float | None = None
    median_resolution: float | None = None
    extra: dict = field(default_factory=dict)


def _grouped(filters: ReportFilters, group_field: str | None) -> dict:
    """Counts and medians per group: two queries on PostgreSQL (created set, resolved set)."""
    rows: dict = {}
    created, resolved = _created(filters), _resolved(filters)
    on_postgresql = connections[settings.REPORTS_DATABASE].vendor == "postgresql"
    created_aggregates = {"created": Count("id"), "responded": Count("first_response_at")}
    resolved_aggregates = {"resolved": Count("id")}
    if on_postgresql:
        # percentile_cont skips NULLs: unanswered tickets do not count towards the median.
        created_aggregates["median_first_response"] = Median(
            SecondsBetween("created_at", "first_response_at")
        )
        resolved_aggregates["median_resolution"] = Median(SecondsBetween("created_at", "resolved_at"))
    for aggregates in (
        _aggregate(created, group_field, **created_aggregates),
        _aggregate(resolved, group_field, **resolved_aggregates),
    ):
        for key, values in aggregates.items():
            row = rows.setdefault(key, TimingRow(key=key, label=""))
            for name, value in values.items():
                setattr(row, name, value)
    if not on_postgresql:
        medians = (
            (
                "median_first_response",
                _python_medians(created, group_field, "created_at", "first_response_at"),
            ),
            ("median_resolution", _python_medians(resolved, group_field, "created_at", "resolved_at")),
        )
        for name, by_key in medians:
            for key, median in by_key.items():
                setattr(rows.setdefault(key, TimingRow(key=key, label="")), name, median)
    return rows


def overall_timing(filters: ReportFilters) -> TimingRow:
    timing = _grouped(filters, None)[None]
    timing.label = "All tickets"
    return timing


def timing_by_agent(filters: ReportFilters) -> list[TimingRow]:
    """One row per member of the organization (and "Unassigned"), by current assignee."""
    rows = _grouped(filters, "assignee_id")
    members = Membership.objects.filter(organization=filters.organization).select_related("user")
    if filters.assignee_id is not None:
        members = members.filter(user_id=filters.assignee_id)
    result = []
    for membership in members.order_by("user__name", "user__email"):
        timing = rows.pop(membership.user_id, None) or TimingRow(key=membership.user_id, label="")
        timing.label = membership.user.display_name
        result.append(timing)
    unassigned = rows.pop(None, None)
    # Former members keep their tickets; show them rather than lose their numbers.
    if rows:
        names = {user.pk: user.display_name for user in User.objects.filter(pk__in=list(rows))}
        for key, timing in rows.items():
            timing.label = f"{names.get(key, 'Unknown')} (former member)"
            result.append(timing)
    if unassigned is not None:
        unassigned.label = "Unassigned"
        result.append(unassigned)
    return result


def timing_by_inbox(filters: ReportFilters) -> list[TimingRow]:
    rows = _grouped(filters, "inbox_id")
    inboxes = Inbox.objects.filter(organization=filters.organization)
    if filters.inbox is not None:
        inboxes = inboxes.filter(pk=filters.inbox.pk)
    result = []
    for inbox in inboxes.order_by("name"):
        timing = rows.pop(inbox.pk, None) or TimingRow(key=inbox.pk, label="")
        timing.label = inbox.name
        result.append(timing)
    return result


def backlog_now(filters: ReportFilters) -> dict[str, int]:
    """Unsolved tickets right now, whatever the range: open, in progress, pending (waiting
    on the customer) and on hold; ``total`` is all four."""
    counts = _tickets(filters).aggregate(
        open=Count("id", filter=Q(status=Ticket.Status.OPEN)),
        in_progress=Count("id", filter=Q(status=Ticket.Status.IN_PROGRESS)),
        pending=Count("id", filter=Q(status=Ticket.Status.PENDING)),
        on_hold=Count("id", filter=Q(status=Ticket.Status.ON_HOLD)),
    )
    counts["total"] = sum(counts.values())
    return counts
