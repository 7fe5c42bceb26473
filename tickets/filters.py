import uuid
from datetime import UTC

import django_filters
from django.db.models import Exists, F, OuterRef, Q
from rest_framework.exceptions import ValidationError

from tickets.models import Customer, Ticket


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 instant, compared in UTC: PostgreSQL refuses offsets beyond ±15:59
    (e.g. "+20:21") that Python parses happily, which would otherwise be a 500."""

    def filter(self, qs, value):
        if value is not None:
            value = value.astimezone(UTC)
        return super().filter(qs, value)


class DueLastOrderingFilter(django_filters.OrderingFilter):
    """Ordering where tickets without an SLA due time come last in either direction (as
    PostgreSQL's index on (organization, sla_due_at) gives them for "due soonest")."""

    def get_ordering_value(self, param):
        value = super().get_ordering_value(param)
        if value.lstrip("-") == "sla_due_at":
            due = F("sla_due_at")
            return due.desc(nulls_last=True) if value.startswith("-") else due.asc(nulls_last=True)
        return value


class TicketFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Ticket.Status.choices)
    priority = django_filters.MultipleChoiceFilter(choices=Ticket.Priority.choices)
    channel = django_filters.MultipleChoiceFilter(choices=Ticket.Channel.choices)
    inbox = django_filters.CharFilter(field_name="inbox__public_id", help_text="Inbox public id.")
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
    sla = django_filters.ChoiceFilter(
        choices=[("breached", "breached")],
        method="filter_sla",
        help_text="breached: tickets that missed at least one SLA target.",
    )
    sla_due_before = UtcIsoDateTimeFilter(
        field_name="sla_due_at",
        lookup_expr="lt",
        help_text="Tickets whose earliest running SLA target is due before this instant.",
    )
    sort = DueLastOrderingFilter(
        fields=(
            ("sla_due_at", "sla_due_at"),
            ("created_at", "created_at"),
            ("updated_at", "updated_at"),
            ("priority", "priority"),
            ("number", "number"),
            ("status", "status"),
        ),
        help_text="created_at, updated_at, priority, number, status or sla_due_at (due soonest first); "
        "prefix - for descending.",
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

    def filter_sla(self, queryset, name, value):
        return queryset.filter(sla_breached_at__isnull=False) if value == "breached" else queryset

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
