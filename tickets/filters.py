import uuid
from datetime import UTC

import django_filters
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q
from rest_framework.exceptions import ValidationError

from tickets.exceptions import InvalidInput
from tickets.models import Customer, CustomField, Inbox, Tag, Ticket
from tickets.services.custom_fields import clean_value

CUSTOM_FIELD_PREFIX = "cf."
RANGE_LOOKUPS = frozenset({"gt", "gte", "lt", "lte"})
RANGE_TYPES = frozenset({CustomField.Type.NUMBER, CustomField.Type.DECIMAL, CustomField.Type.DATE})


def _query_value(field: CustomField, text: str):
    """A filter's text as the value stored for ``field`` (a checkbox's "true", a number)."""
    if field.type == CustomField.Type.CHECKBOX:
        lowered = text.strip().lower()
        if lowered not in {"true", "false", "1", "0"}:
            raise InvalidInput(f"cf.{field.key}", "Must be true or false.")
        return lowered in {"true", "1"}
    if field.type in (CustomField.Type.DROPDOWN, CustomField.Type.MULTI_SELECT):
        # Any option, also one removed from the field since: the tickets that took it keep
        # it, and a filter by it finds them (a value that never was an option finds none).
        return text
    if field.type == CustomField.Type.NUMBER:
        try:
            return clean_value(field, int(text.strip()))
        except ValueError:
            raise InvalidInput(f"cf.{field.key}", "Must be a whole number.") from None
    return clean_value(field, text)


def filter_custom_fields(queryset, params, organization_ids) -> object:
    """Narrow ``queryset`` by ``cf.<key>=value`` and ``cf.<key>__gte=value`` (gt, gte, lt,
    lte for numbers, decimals and dates) parameters.

    Equality is containment (``custom_fields @> {"key": value}``), which the GIN index on
    the column answers on PostgreSQL; a multi-select matches a ticket that has the option.
    An unknown field or a value not of its type is a 400 naming the parameter; an option no
    longer offered is no error (tickets may still carry it).
    """
    wanted = [(name, values) for name, values in params.lists() if name.startswith(CUSTOM_FIELD_PREFIX)]
    if not wanted:
        return queryset
    keys = {name.removeprefix(CUSTOM_FIELD_PREFIX).split("__", 1)[0] for name, _ in wanted}
    fields = {
        field.key: field
        for field in CustomField.objects.filter(organization_id__in=organization_ids, key__in=keys)
    }
    for name, values in wanted:
        key, _, lookup = name.removeprefix(CUSTOM_FIELD_PREFIX).partition("__")
        field = fields.get(key)
        if field is None:
            raise ValidationError({name[:60]: "Unknown custom field."})
        if lookup and (lookup not in RANGE_LOOKUPS or field.type not in RANGE_TYPES):
            raise ValidationError({name[:60]: "Ranges (gt, gte, lt, lte) are for numbers and dates."})
        for text in values:
            if not text.strip():
                continue  # An empty input filters nothing, as for the other filters.
            try:
                value = _query_value(field, text)
            except InvalidInput as error:
                raise ValidationError({name[:60]: error.message}) from None
            if lookup:
                queryset = queryset.filter(**{f"custom_fields__{key}__{lookup}": value})
            elif connection.vendor == "postgresql":
                stored = [value] if field.type == CustomField.Type.MULTI_SELECT else value
                queryset = queryset.filter(custom_fields__contains={key: stored})
            elif field.type == CustomField.Type.MULTI_SELECT:
                # SQLite has no JSON containment: the option, as a quoted JSON string.
                queryset = queryset.filter(**{f"custom_fields__{key}__icontains": f'"{value}"'})
            else:
                queryset = queryset.filter(**{f"custom_fields__{key}": value})
    return queryset


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 instant, compared in UTC: PostgreSQL refuses offsets beyond ±15:59
    (e.g. "+20:21") that Python parses happily, which would otherwise be a 500."""

    def filter(self, qs, value):
        if value is not None:
            value = value.astimezone(UTC)
        return super().filter(qs, value)


class TicketOrdering(django_filters.OrderingFilter):
    """A sort that pages the same way every time: ties are broken by what follows each key
    (the same columns, in the same direction, as the index that serves it); priority sorts
    by its rank, not its name; tickets without an SLA due time come last either way (as the
    index on (organization, sla_due_at) gives them for "due soonest")."""

    TIE_BREAKS = {
        "created_at": ["id"],
        "updated_at": ["id"],
        "priority_rank": ["created_at", "id"],
        "number": ["id"],
        "status": ["created_at", "id"],
        "sla_due_at": ["id"],
    }

    def get_ordering_value(self, param):
        value = super().get_ordering_value(param)
        name = value.lstrip("-")
        prefix = "-" if value.startswith("-") else ""
        key = value
        if name == "sla_due_at":
            due = F("sla_due_at")
            key = due.desc(nulls_last=True) if prefix else due.asc(nulls_last=True)
        return [key, *(f"{prefix}{field}" for field in self.TIE_BREAKS[name])]

    def filter(self, qs, value):
        if not value:
            return qs
        ordering = []
        for param in value:
            for field in self.get_ordering_value(param):
                if field not in ordering:
                    ordering.append(field)
        return qs.order_by(*ordering)


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
    sort = TicketOrdering(
        fields=(
            ("sla_due_at", "sla_due_at"),
            ("created_at", "created_at"),
            ("updated_at", "updated_at"),
            ("priority_rank", "priority"),
            ("number", "number"),
            ("status", "status"),
        ),
        help_text=(
            "created_at, updated_at, priority (by rank: low to critical), number, status or "
            "sla_due_at (due soonest first); prefix - for descending."
        ),
    )

    class Meta:
        model = Ticket
        fields = []

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        return filter_custom_fields(queryset, self.data, self.asking_organization_ids())

    def asking_organization_ids(self):
        """The organizations whose tickets are listed: the principal's."""
        principal = getattr(self.request, "auth", None)
        organization_ids = getattr(principal, "organization_ids", None)
        if organization_ids is None:
            organization_ids = getattr(self, "organization_ids", ())
        return organization_ids

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
        # The inbox's id is read first and given to the planner as a value, not joined
        # nor as a subquery: with the value it estimates from the column's statistics how
        # many tickets that inbox holds, so a small inbox is read by its index and a big
        # one's capped count stops at the cap. (A join with an inbox holding half the
        # tickets read the whole table; a subquery is guessed as one inbox in n, so with
        # another filter a small inbox's count read the whole table too.)
        found = list(Inbox.objects.filter(public_id=value).order_by().values_list("pk", flat=True)[:1])
        return queryset.filter(inbox_id=found[0]) if found else queryset.none()

    def filter_tag(self, queryset, name, value):
        condition = Q(name=value)
        try:
            condition |= Q(pk=uuid.UUID(value))
        except ValueError:
            pass
        # The tag's ids are read first (by the unique (organization, name) index) and
        # given to the planner as values: it then reads the tag's rows by the tag index,
        # or probes each ticket's (ticket, tag) key, where a join with the tag by its name
        # read the whole tickets_ticket_tags table, in the list and in its capped count.
        tags = Tag.objects.filter(condition)
        organization_ids = self.asking_organization_ids()
        if organization_ids:
            # Every listed ticket is of these organizations, and so are its tags.
            tags = tags.filter(organization_id__in=organization_ids)
        tag_ids = list(tags.order_by().values_list("pk", flat=True))
        # EXISTS rather than a join, so a ticket with two matching tags is listed once
        # without a DISTINCT over the whole result.
        tagged = Ticket.tags.through.objects.filter(tag_id__in=tag_ids, ticket_id=OuterRef("pk"))
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
