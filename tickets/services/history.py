"""The durable record of each change: one TicketEvent row per fact, written in the change's transaction."""

from tickets.actors import Actor
from tickets.models import Ticket, TicketEvent


def record_event(
    ticket: Ticket, actor: Actor, action: str, *, field="", before=None, after=None
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket,
        action=action,
        actor_user=actor.user,
        actor_customer=actor.customer,
        actor_label=actor.label[:200],
        field=field,
        before=before,
        after=after,
    )
