"""Webhooks and the event feed as a subscriber of the domain events.

A domain event is only described here (ids, actor, changes: what the event already holds,
no query), inside the transaction that made the change, and handed to the outbox
(``tickets/outbox.py``) with it: the descriptions of one transaction join one call of
``record_domain_events``, written in the same task row as the transaction's other work
(a create's notification), so the events commit with the change or not at all. Outside
an outbox's transaction, each event is handed over as it comes.

The task (``record_domain_events``) renders the payloads, records the events in the feed
with a delivery per subscribed endpoint, and has the endpoints drained
(``webhooks/services/deliveries.py``). Nothing here reads or sends in the request.
"""

import logging

from django.db import transaction
from django.tasks import task

from tickets import events, outbox

from . import payloads, services

logger = logging.getLogger(__name__)

HEARD = (
    events.TicketCreated,
    events.TicketUpdated,
    events.TicketStatusChanged,
    events.TicketAssigned,
    events.TicketMerged,
    events.MessageCreated,
    events.CustomerCreated,
    events.CustomerUpdated,
    events.TriggerFired,
    events.SlaWarning,
    events.SlaBreached,
    events.SatisfactionRated,
)


def register() -> None:
    for event_type in HEARD:
        events.subscribe(event_type, on_domain_event)
    events.subscribe(events.ContentsErased, on_contents_erased)


@events.in_transaction
def on_contents_erased(event: events.ContentsErased) -> None:
    """Erased data leaves the feed with the erasure (same transaction): no endpoint or
    feed reader gets a copy afterwards."""
    services.redact_events(
        organization_id=event.organization_id,
        ticket_ids=event.ticket_ids,
        customer_id=event.customer_id,
        containing=(event.customer_public_id, *event.message_public_ids),
    )


def describe(event: events.DomainEvent) -> dict:
    """The event as task arguments can carry it (JSON), from what it holds in memory."""
    record = {
        "type": event.name,
        "organization_id": event.organization_id,
        "occurred_at": event.occurred_at.isoformat(),
        "actor": services.actor_representation(event.actor),
    }
    names = (
        "ticket_id",
        "message_id",
        "is_public",
        "customer_id",
        "before",
        "after",
        "trigger",
        "label",
        "target",
        "due_at",
        "rating",
        "comment",
        "into_id",
        "messages",
    )
    for name in names:
        if hasattr(event, name):
            record[name] = getattr(event, name)
    if hasattr(event, "changes"):
        record["changes"] = {name: [before, after] for name, (before, after) in event.changes.items()}
    return payloads.json_safe(record)


@events.in_transaction
def on_domain_event(event: events.DomainEvent) -> None:
    outbox.enqueue_items_with_change(record_domain_events, [describe(event)])


@task()
def record_domain_events(records: list[dict]) -> int:
    """Record the events in the feed and queue their deliveries; returns how many were recorded."""
    new_events = [new_event for new_event in map(payloads.build, records) if new_event is not None]
    if not new_events:
        return 0
    with transaction.atomic():
        # With the database backend the drains commit with the deliveries, or neither does.
        endpoint_ids = services.record_events(new_events)
        services.enqueue_drains(endpoint_ids)
    return len(new_events)
