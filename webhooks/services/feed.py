"""The event feed's rules: what a caller may read, from where, and for how long."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from ..models import PING, Event


def retention_cutoff():
    return timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS)


def events_for_principal(principal):
    """The events the caller may read, oldest first: its organizations', within retention.

    An API key restricted to one inbox reads only that inbox's events (customer events
    belong to no inbox, so it reads none of those). Pings are for one endpoint, never the feed.
    """
    events = Event.objects.filter(
        organization_id__in=principal.organization_ids, created_at__gte=retention_cutoff()
    ).exclude(type=PING)
    if principal.restricted_inbox_id is not None:
        events = events.filter(inbox_id=principal.restricted_inbox_id)
    return events.order_by("id")


def prune_events(*, batch_size: int = 5000) -> int:
    """Delete events (and their deliveries) older than ``EVENT_RETENTION_DAYS``; returns how many."""
    cutoff = retention_cutoff()
    removed = 0
    while True:
        ids = list(Event.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:batch_size])
        if not ids:
            return removed
        Event.objects.filter(pk__in=ids).delete()
        removed += len(ids)
