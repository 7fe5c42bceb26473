"""Webhooks and the event feed as a subscriber of the domain events.

In the request, a domain event is only described (ids, actor, changes: what the event
already holds, no query) and the descriptions of one request are handed to the task
queue together, in one task, when the request ends (``CollectDomainEventsMiddleware``):
one insert with the database backend, however many events and endpoints. Outside a
request (a worker, a command) each event is handed over as it comes.

The task (``record_domain_events``) renders the payloads, records the events in the feed
with a delivery per subscribed endpoint, and has the endpoints drained
(``webhooks/services/deliveries.py``). Nothing here ever fails the request.
"""

import logging
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction
from django.tasks import task

from tickets import events

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
)

# The descriptions collected during the current request; None outside one.
_collected: ContextVar[list[dict] | None] = ContextVar("webhook_domain_events", default=None)


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
        "into_id",
        "messages",
    )
    for name in names:
        if hasattr(event, name):
            record[name] = getattr(event, name)
    if hasattr(event, "changes"):
        record["changes"] = {name: [before, after] for name, (before, after) in event.changes.items()}
    return payloads.json_safe(record)


def on_domain_event(event: events.DomainEvent) -> None:
    record = describe(event)
    collected = _collected.get()
    if collected is not None:
        collected.append(record)
    else:
        hand_over([record])


def hand_over(records: list[dict]) -> None:
    """Enqueue one task for these events; a failure is logged, never raised."""
    if not records:
        return
    try:
        # Subscribers run after commit, outside any transaction: one autocommitted insert.
        record_domain_events.enqueue(records)
    except Exception:
        logger.exception("Could not enqueue %d domain event(s) for webhooks and the feed", len(records))


@contextmanager
def collecting():
    """Collect the domain events told inside the block; hand them over at its end."""
    token = _collected.set([])
    try:
        yield
    finally:
        records = _collected.get() or []
        _collected.reset(token)
        hand_over(records)


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
