"""SLA clocks as a subscriber of the domain events (tickets/events.py).

Each handler hears its event inside the transaction that made the change (the service
holds the ticket's row lock), so the due times commit with the change or not at all. They
read the ticket the service hands over in the event (``event.ticket``), already in
memory; only an event published without one costs a query.
"""

from tickets import events
from tickets.models import Ticket

from . import satisfaction, services


def register() -> None:
    events.subscribe(events.TicketCreated, on_ticket_created)
    events.subscribe(events.TicketUpdated, on_ticket_updated)
    events.subscribe(events.MessageCreated, on_message_created)
    events.subscribe(events.TicketStatusChanged, on_status_changed)


def _ticket(event) -> Ticket:
    if event.ticket is not None:
        return event.ticket
    return Ticket.objects.select_related("inbox", "customer").get(pk=event.ticket_id)


@events.in_transaction
def on_ticket_created(event: events.TicketCreated) -> None:
    ticket = _ticket(event)
    tags = getattr(ticket, "initial_tags", None)
    tag_names = [tag.name for tag in tags] if tags is not None else ticket.tags.values_list("name", flat=True)
    services.start_clocks(ticket=ticket, tag_names=tag_names)


@events.in_transaction
def on_ticket_updated(event: events.TicketUpdated) -> None:
    if services.REEVALUATE_ON.isdisjoint(event.changes):
        return
    services.reevaluate(ticket=_ticket(event), actor=event.actor)


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
