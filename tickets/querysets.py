"""Named reads of tickets, shared by the API, the dashboard and the admin."""

from django.db import connection, models
from django.db.models import Exists, OuterRef, Q


class TicketQuerySet(models.QuerySet):
    def for_list(self):
        """What a list of tickets shows: one query, no per-row lookups."""
        return self.select_related("inbox", "customer", "assignee").prefetch_related("tags")

    def visible_to_organizations(self, organization_ids):
        return self.filter(organization_id__in=organization_ids)

    def open(self):
        return self.filter(status__in=["open", "in_progress"])

    def search(self, text: str):
        """Tickets whose reference, subject or any message matches ``text``."""
        text = text.strip()
        if not text:
            return self
        from .models import Message

        if connection.vendor == "postgresql":
            from django.contrib.postgres.search import SearchQuery, SearchVector

            query = SearchQuery(text, search_type="websearch", config="english")
            message_match = Message.objects.annotate(document=SearchVector("body", config="english")).filter(
                ticket=OuterRef("pk"), document=query
            )
            subject_match = Q(subject__search=text)
        else:
            message_match = Message.objects.filter(ticket=OuterRef("pk"), body__icontains=text)
            subject_match = Q(subject__icontains=text)
        return self.filter(
            subject_match
            | Q(reference__iexact=text)
            | Q(customer__email__iexact=text)
            | Exists(message_match)
        )
