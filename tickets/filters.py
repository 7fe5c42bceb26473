import uuid
from datetime import UTC

import django_filters
from django.db.models import Exists, OuterRef, Q, Subquery
from rest_framework.exceptions import ValidationError

from tickets.models import Customer, Inbox, Ticket


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 instant, compared in UTC: PostgreSQL refuses offsets beyond ±15:59
    (e.g. "+20:21") that Python parses happily, which would otherwise be a 500."""

    def filter(self, qs, value):
        if value is not None:
            value = value.astimezone(UTC)
        return super().filter(qs, value)


class TicketOrdering(django_filters.OrderingFilter):
    """A sort that pages the same way every time: ties are broken by what follows each key
    (the same columns, in the same direction, as the index that serves it), and priority
    sorts by its rank, not its name."""

    TIE_BREAKS = {
        "created_at": ["id"],
        "updated_at": ["id"],
        "priority_rank": ["created_at", "id"],
        "number": ["id"],
        "status": ["created_at", "id"],
    }

    def get_ordering_value(self, param):
        value = super().get_ordering_value(param)
        descending = value.startswith("-")
        prefix = "-" if descending else ""
        return [value, *(f"{prefix}{field}" for field in self.TIE_BREAKS[value.lstrip("-")])]

    def filter(self, qs, value):
        if not value:
            return qs
        ordering = [field for param in value for field in self.get_ordering_value(param)]
        return qs.order_by(*dict.fromkeys(ordering))


class TicketFilter(django_filters.FilterSet):
    # No DISTINCT: these compare the ticket's own columns, so no row can appear twice, and
    # a DISTINCT over the list (and its capped count) would read every matching row.
    status = django_filters.MultipleChoiceFilter(choices=Ticket.Status.choices, distinct=False)
    priority = django_filters.MultipleChoiceFilter(choices=Ticket.Priority.choices, distinct=False)
    channel = django_filters.MultipleChoiceFilter(choices=Ticket.Channel.choices, distinct=False)
    inbox = django_filters.CharFilter(method="filter_inbox", help_text="Inbox public id.")
    customer = django_filters.CharFilter(field_name="customer__public_id", help_text="Customer public id.")
    customer_email = django_filters.CharFilter(field_name="customer__email", lookup_expr="iexact")
    external_id = django_filters.CharFilter(field_name="customer__external_id")
    assignee = django_filters.CharFilter(
        method="filter_assignee", help_text='An agent id or email, "me", or "none".'
    )
    tag = django_filters.CharFilter(method="filter_tag", help_text="A tag name or id.")
    category = django_filters.CharFilter()
    type = django_filters.CharFilter()
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = UtcIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    q = django_filters.CharFilter(method="filter_search", help_text="Full-text search.")
    sort = TicketOrdering(
        fields=(
            ("created_at", "created_at"),
            ("updated_at", "updated_at"),
            ("priority_rank", "priority"),
            ("number", "number"),
            ("status", "status"),
        ),
        help_text=(
            "created_at, updated_at, priority (by rank: low to critical), number or status; "
            "prefix - for descending."
        ),
    )

    class Meta:
        model = Ticket
        fields = []

    def filter_assignee(self, queryset, name, value):
        value = value.strip()
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value == "me":
            user = getattr(self.request, "user", None)
            if user is None or not getattr(user, "is_authenticated", False):
                raise ValidationError({"assignee": '"me" needs an agent token; an API key is no agent.'})
            return queryset.filter(assignee=user)
        if value.isdigit():
            return queryset.filter(assignee_id=int(value)) if len(value) <= 18 else queryset.none()
        return queryset.filter(assignee__email__iexact=value)

    def filter_inbox(self, queryset, name, value):
        # The inbox's id as a scalar subquery, not a join: the planner then reads the
        # tickets of that inbox by its index, where a join with an inbox holding half the
        # tickets made it scan the whole table (and its capped count) instead.
        inbox_id = Inbox.objects.filter(public_id=value).values("pk")[:1]
        return queryset.filter(inbox_id=Subquery(inbox_id))

    def filter_tag(self, queryset, name, value):
        condition = Q(tag__name=value)
        try:
            condition |= Q(tag_id=uuid.UUID(value))
        except ValueError:
            pass
        # EXISTS rather than a join, so a ticket with two matching tags is listed once
        # without a DISTINCT over the whole result.
        tagged = Ticket.tags.through.objects.filter(condition, ticket_id=OuterRef("pk"))
        return queryset.filter(Exists(tagged))

    def filter_search(self, queryset, name, value):
        return queryset.search(value)


class CustomerFilter(django_filters.FilterSet):
    email = django_filters.CharFilter(lookup_expr="iexact")
    external_id = django_filters.CharFilter()
    q = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = Customer
        fields = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(email__icontains=value) | Q(name__icontains=value) | Q(external_id=value))
