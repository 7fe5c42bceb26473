"""The durable record of each change: one TicketEvent row per fact, written in the change's transaction."""

from tickets.actors import Actor
from tickets.models import Ticket, TicketEvent


def new_event(ticket: Ticket, actor: Actor, action: str, *, field="", before=None, after=None) -> TicketEvent:
    """The row for a change, built but not saved (for a service that saves it later)."""
    return TicketEvent(
        ticket=ticket,
        action=action,
        actor_user=actor.user,
        actor_customer=actor.customer,
        actor_label=actor.label[:200],
        field=field,
        before=before,
        after=after,
    )


def record_event(
    ticket: Ticket, actor: Actor, action: str, *, field="", before=None, after=None
) -> TicketEvent:
    event = new_event(ticket, actor, action, field=field, before=before, after=after)
    event.save(force_insert=True)
    return event
