"""Named reads of tickets, shared by the API, the dashboard and the admin."""

import re

from django.db import connection, models
from django.db.models import Exists, OuterRef, Q

# What a ticket reference looks like ("INV-1042"): searched by exact reference.
REFERENCE = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,9}-[0-9]+$")


class TicketQuerySet(models.QuerySet):
    def for_list(self):
        """What a list of tickets shows: one query, no per-row lookups."""
        return self.select_related("inbox", "customer", "assignee").prefetch_related("tags")

    def visible_to_organizations(self, organization_ids):
        return self.filter(organization_id__in=organization_ids)

    def open(self):
        return self.filter(status__in=["open", "in_progress"])

    def search(self, text: str):
        """Tickets whose reference, subject, customer email or any message matches ``text``."""
        text = text.strip()
        if not text:
            return self
        from .models import Message

        if connection.vendor != "postgresql":
            message_match = Message.objects.filter(ticket=OuterRef("pk"), body__icontains=text)
            return self.filter(
                Q(subject__icontains=text)
                | Q(reference__iexact=text)
                | Q(customer__email__iexact=text)
                | Exists(message_match)
            )

        from django.contrib.postgres.search import SearchQuery, SearchVector

        # Each way of matching is its own indexed lookup and the ticket ids are united,
        # so PostgreSQL answers from the GIN indexes of migration 0003
        # (to_tsvector('english', COALESCE(subject/body, ''))) instead of testing every
        # ticket of the organization against an OR.  The expressions below must stay
        # identical to those indexes.
        query = SearchQuery(text, search_type="websearch", config="english")
        tickets = self.order_by()
        matches = [
            tickets.annotate(document=SearchVector("subject", config="english"))
            .filter(document=query)
            .values("pk"),
            Message.objects.order_by()
            .annotate(document=SearchVector("body", config="english"))
            .filter(document=query)
            .values("ticket_id"),
        ]
        if REFERENCE.match(text):
            matches.append(tickets.filter(reference=text.upper()).values("pk"))
        if "@" in text:
            matches.append(tickets.filter(customer__email=text.lower()).values("pk"))
        return self.filter(pk__in=matches[0].union(*matches[1:]))
