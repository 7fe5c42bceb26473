"""SLA clocks as a subscriber of the domain events (tickets/events.py).

Each handler hears its event inside the transaction that made the change (the service
holds the ticket's row lock), so the due times commit with the change or not at all. They
read the ticket the service hands over in the event (``event.ticket``), already in
memory; only an event published without one costs a query.
"""

from django.tasks import task

from tickets import events
from tickets.actors import Actor
from tickets.models import Ticket
from tickets.outbox import enqueue_with_change

from . import satisfaction, services


def register() -> None:
    events.subscribe(events.TicketOpening, on_ticket_opening)
    events.subscribe(events.TicketCreated, on_ticket_created)
    events.subscribe(events.TicketUpdated, on_ticket_updated)
    events.subscribe(events.MessageCreated, on_message_created)
    events.subscribe(events.TicketStatusChanged, on_status_changed)
    events.subscribe(events.CustomerUpdated, on_customer_updated)


def _ticket(event) -> Ticket:
    if event.ticket is not None:
        return event.ticket
    return Ticket.objects.select_related("inbox", "customer").get(pk=event.ticket_id)


@events.in_transaction
def on_ticket_opening(event: events.TicketOpening) -> None:
    """The clocks of a new ticket, set before its INSERT writes them: no UPDATE after."""
    services.start_clocks(ticket=event.ticket, tag_names=event.tag_names, write=False)


@events.in_transaction
def on_ticket_created(event: events.TicketCreated) -> None:
    """A ticket made without ``ticket.opening`` (a split): its clocks start now."""
    ticket = _ticket(event)
    if ticket.sla_policy_id is not None:
        return
    tags = getattr(ticket, "initial_tags", None)
    tag_names = [tag.name for tag in tags] if tags is not None else ticket.tags.values_list("name", flat=True)
    services.start_clocks(ticket=ticket, tag_names=tag_names)


@events.in_transaction
def on_ticket_updated(event: events.TicketUpdated) -> None:
    if services.REEVALUATE_ON.isdisjoint(event.changes):
        return
    moved = event.changes.get("inbox")
    services.reevaluate(
        ticket=_ticket(event), actor=event.actor, moved_from_inbox=moved[0] if moved else None
    )


@events.in_transaction
def on_message_created(event: events.MessageCreated) -> None:
    if not event.is_public:
        return
    services.on_public_message(
        ticket=_ticket(event), from_customer=event.actor.is_customer, at=event.occurred_at
    )


@events.in_transaction
def on_status_changed(event: events.TicketStatusChanged) -> None:
    ticket = _ticket(event)
    if event.after == Ticket.Status.RESOLVED:
        satisfaction.on_resolved(ticket=ticket, at=event.occurred_at)
    services.on_status_changed(
        ticket=ticket,
        before=event.before,
        after=event.after,
        by_customer=event.actor.is_customer,
        at=event.occurred_at,
    )


@events.in_transaction
def on_customer_updated(event: events.CustomerUpdated) -> None:
    """A policy may name the customer's metadata (``plan = pro``): when a key it names
    changed, choose again for the customer's unsolved tickets — here for a few, in a task
    for many."""
    if "metadata" not in event.changes:
        return
    before, after = event.changes["metadata"]
    if not services.metadata_change_matters(
        organization_id=event.organization_id, before=before, after=after
    ):
        return
    ticket_ids = services.unsolved_ticket_ids(
        customer_id=event.customer_id, limit=services.INLINE_REEVALUATIONS + 1
    )
    if len(ticket_ids) <= services.INLINE_REEVALUATIONS:
        services.reevaluate_tickets(ticket_ids=ticket_ids, actor=event.actor)
    else:
        enqueue_with_change(reevaluate_customer_tickets, event.customer_id)


@task()
def reevaluate_customer_tickets(customer_id: int) -> None:
    """Choose the policy again for each unsolved ticket of a customer with many of them."""
    services.reevaluate_customer_tickets(customer_id=customer_id, actor=Actor.system("Service levels"))
