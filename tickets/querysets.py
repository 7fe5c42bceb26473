"""Named reads of tickets, shared by the API, the dashboard and the admin."""

import re

from django.apps import apps
from django.contrib.postgres.search import SearchQuery
from django.db import connection, models
from django.db.models import Exists, OuterRef, Q

from .search import SEARCH_CONFIG

# The statuses (Ticket.Status values) of a ticket not yet solved: waiting for the
# organization (open, in progress), for the customer (pending) or for a third party (on
# hold). Defined here, the bottom of the models module's imports, so every layer can use it.
OPEN_STATUSES = frozenset({"open", "in_progress", "pending", "on_hold"})

# What a ticket reference looks like ("INV-1042"): searched by exact reference.
REFERENCE = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,9}-[0-9]+$")


class TicketQuerySet(models.QuerySet):
    def for_list(self):
        """What a list of tickets shows: one query, no per-row lookups."""
        return self.select_related(
            "inbox", "customer", "assignee", "sla_policy", "satisfaction"
        ).prefetch_related("tags")

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def search(self, text: str):
        """Tickets whose reference, subject, customer email or any message matches ``text``."""
        text = text.strip()
        if not text:
            return self
        # By name: the models module imports this one for its manager.
        Message = apps.get_model("tickets", "Message")
        if connection.vendor != "postgresql":
            message_match = Message.objects.filter(ticket=OuterRef("pk"), body__icontains=text)
            return self.filter(
                Q(subject__icontains=text)
                | Q(reference__iexact=text)
                | Q(customer__email__iexact=text)
                | Exists(message_match)
            )

        Customer = apps.get_model("tickets", "Customer")
        # One GIN-indexed predicate on the tickets table (Ticket.search_document, which
        # holds the reference, subject and every message), so the planner can estimate it
        # from the column's statistics: a rare word is read from the index, a common one
        # by walking the newest tickets until a page is full.
        matches = Q(search_document=SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG))
        if REFERENCE.match(text):
            matches |= Q(reference=text.upper())
        if "@" in text:
            # Resolved first (one per organization at most) so the OR stays a bitmap of
            # indexes instead of a subplan tested against every ticket.
            customer_ids = list(Customer.objects.filter(email=text.lower()).values_list("pk", flat=True))
            if customer_ids:
                matches |= Q(customer_id__in=customer_ids)
        return self.filter(matches)


class TicketManager(models.Manager.from_queryset(TicketQuerySet)):
    def get_queryset(self):
        # The search document can be large and only PostgreSQL ever reads it; leaving it
        # deferred also keeps a full save() from writing back a stale copy.
        return super().get_queryset().defer("search_document")
