"""Participants: the people copied on a ticket besides its customer (issue 14, item 10)."""

from django.db import transaction

from tickets import events
from tickets.actors import Actor
from tickets.exceptions import InvalidInput, PermissionDenied
from tickets.models import Participant, Ticket, TicketEvent

from .customers import CustomerData, upsert_customer
from .history import record_event
from .validation import normalize_email

MAX_PARTICIPANTS = 10


def add_participant(*, ticket: Ticket, email: str, actor: Actor, name: str = "") -> Participant:
    """Copy someone on the ticket (found or created as a customer of its organization).

    Agents add and remove participants; the customer's own Cc's are added by the mail
    handler as the customer. Adding someone already there returns their row.
    """
    email = normalize_email(email, field_name="email")
    if not email:
        raise InvalidInput("email", "A participant needs an email address.")
    if email == (ticket.customer.email or "").lower() or email == (ticket.reply_address or "").lower():
        raise InvalidInput("email", "This is the ticket's customer.")
    with transaction.atomic():
        customer, _ = upsert_customer(
            organization=ticket.organization, data=CustomerData(email=email, name=name), actor=actor
        )
        existing = Participant.objects.filter(ticket=ticket, customer=customer).first()
        if existing is not None:
            return existing
        if Participant.objects.filter(ticket=ticket).count() >= MAX_PARTICIPANTS:
            raise InvalidInput("email", f"A ticket has at most {MAX_PARTICIPANTS} participants.")
        participant = Participant.objects.create(ticket=ticket, customer=customer)
        record_event(ticket, actor, TicketEvent.Action.UPDATED, field="participants", after=email)
        events.publish(
            events.TicketUpdated(
                actor=actor,
                organization_id=ticket.organization_id,
                ticket_id=ticket.pk,
                changes={"participants": (None, email)},
            )
        )
    return participant


def remove_participant(*, ticket: Ticket, participant: Participant, actor: Actor) -> None:
    if actor.is_customer:
        raise PermissionDenied("Only agents remove participants.")
    if participant.ticket_id != ticket.pk:
        raise InvalidInput("participant", "Not a participant of this ticket.")
    with transaction.atomic():
        email = participant.customer.email
        participant.delete()
        record_event(ticket, actor, TicketEvent.Action.UPDATED, field="participants", before=email)
        events.publish(
            events.TicketUpdated(
                actor=actor,
                organization_id=ticket.organization_id,
                ticket_id=ticket.pk,
                changes={"participants": (email, None)},
            )
        )
