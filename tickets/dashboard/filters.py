"""The queue's saved views, filters and sort orders.

Filters reuse the native API's ``TicketFilter`` so the queue and ``GET /api/v1/tickets``
understand the same words (status, priority, inbox, assignee, tag, q); the queue adds
calendar-day bounds for the date inputs and sort orders that people mean.
"""

from datetime import datetime, time, timedelta

import django_filters
from django.db.models import F
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from tickets.filters import TicketFilter, filter_custom_fields
from tickets.models import CustomField
from tickets.querysets import OPEN_STATUSES

# name -> (label, what it narrows to, its default sort)
# The unsolved views list first whoever has waited longest for us (a customer's message
# not yet answered), then the tickets where we spoke last.
SAVED_VIEWS = {
    "mine": ("Assigned to me", "mine", "waiting"),
    "unassigned": ("Unassigned", "unassigned", "waiting"),
    "open": ("All open", "open", "waiting"),
    "recent": ("Recently updated", "recent", "-updated"),
    "all": ("All tickets", "all", "-created"),
}
DEFAULT_VIEW = "open"


def apply_saved_view(queryset, view: str, user):
    if view == "mine":
        return queryset.filter(assignee=user, status__in=OPEN_STATUSES)
    if view == "unassigned":
        return queryset.filter(assignee__isnull=True, status__in=OPEN_STATUSES)
    if view == "open":
        return queryset.filter(status__in=OPEN_STATUSES)
    return queryset


SORTS = {
    # Served by the ticket_org_waiting index (PostgreSQL's ascending order puts NULLs last).
    "waiting": (
        "Waiting longest",
        [F("customer_waiting_since").asc(nulls_last=True), "id"],
    ),
    "-created": ("Newest first", ["-created_at", "-id"]),
    "created": ("Oldest first", ["created_at", "id"]),
    "-updated": ("Recently updated", ["-updated_at", "-id"]),
    "updated": ("Least recently updated", ["updated_at", "id"]),
    # Each sort is one index read forwards or backwards (Ticket.Meta.indexes).
    "-priority": ("Highest priority", ["-priority_rank", "-created_at", "-id"]),
    "priority": ("Lowest priority", ["priority_rank", "created_at", "id"]),
    # Tickets without a running SLA target last; (organization, sla_due_at) serves it.
    "due": ("Due soonest", [F("sla_due_at").asc(nulls_last=True), "id"]),
    "-number": ("Highest number", ["-number", "-id"]),
    "number": ("Lowest number", ["number", "id"]),
}


# What the queue's time column shows, so that it agrees with the order of the rows.
TIME_COLUMNS = {
    "waiting": "Waiting",
    "-updated": "Updated",
    "updated": "Updated",
    "-created": "Created",
    "created": "Created",
}


def time_column(sort: str) -> str:
    return TIME_COLUMNS.get(sort, "Waiting")


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class QueueFilter(TicketFilter):
    # Date inputs send calendar days; "to" includes the whole day.
    created_after = django_filters.DateFilter(method="filter_created_after", label="Created from")
    created_before = django_filters.DateFilter(method="filter_created_before", label="Created to")
    sla = django_filters.ChoiceFilter(
        choices=[("breached", "Breached"), ("due_1h", "Due within 1 h")],
        method="filter_sla",
        label="SLA",
    )
    sort = django_filters.ChoiceFilter(
        choices=[(key, label) for key, (label, _) in SORTS.items()],
        method="filter_sort",
        empty_label=None,
    )

    class Meta(TicketFilter.Meta):
        pass

    def filter_queryset(self, queryset):
        # The custom fields are the current organization's; a bad value is shown as the
        # other filters' errors are, and lists nothing.
        queryset = super(TicketFilter, self).filter_queryset(queryset)
        try:
            return filter_custom_fields(queryset, self.data, self.asking_organization_ids())
        except ValidationError as error:
            for parameter, message in error.detail.items():
                self.form.add_error(None, f"{self._box_label(parameter)}: {message}")
            return queryset.none()

    # The queue's boxes for a range: "from" and "to"; the API's gt and lt are typed only.
    RANGE_WORDS = {"gte": "from", "lte": "to", "gt": "above", "lt": "below"}

    def _box_label(self, parameter: str) -> str:
        """The box an agent typed in ("Amount to"), not the parameter ("cf.amount__lte")."""
        key, _, lookup = parameter.removeprefix("cf.").partition("__")
        label = (
            CustomField.objects.filter(organization_id__in=self.asking_organization_ids(), key=key)
            .values_list("label", flat=True)
            .first()
        )
        if label is None:
            return parameter
        return f"{label} {self.RANGE_WORDS[lookup]}" if lookup in self.RANGE_WORDS else label

    def asking_organization_ids(self):
        return [self.request.organization.pk]

    def filter_created_after(self, queryset, name, value):
        return queryset.filter(created_at__gte=_day_start(value))

    def filter_created_before(self, queryset, name, value):
        return queryset.filter(created_at__lt=_day_start(value + timedelta(days=1)))

    def filter_sla(self, queryset, name, value):
        if value == "due_1h":
            # Overdue ones included: they are due "within the hour" too, and more so.
            return queryset.filter(sla_due_at__lte=timezone.now() + timedelta(hours=1))
        return super().filter_sla(queryset, name, value)

    def filter_sort(self, queryset, name, value):
        # Applied in the view (the saved view decides the default), see ordered().
        return queryset


def ordered(queryset, sort: str):
    label, ordering = SORTS.get(sort, SORTS["-created"])
    return queryset.order_by(*ordering)
