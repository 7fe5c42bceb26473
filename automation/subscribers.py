"""Triggers as a subscriber of the domain events: which domain event is which trigger event.

In the transaction (``@events.in_transaction``): a trigger's changes commit with the
change that started it, or not at all, and the request answers with the ticket as the
triggers left it. See ``services.py`` for the one-pass rule.
"""

from accounts.models import Organization
from tickets import events

from . import services


@events.in_transaction
def on_ticket_created(event: events.TicketCreated) -> None:
    services.run_triggers(
        event_name="ticket.created",
        organization_id=event.organization_id,
        ticket_id=event.ticket_id,
        ticket=event.ticket,
    )


@events.in_transaction
def on_ticket_updated(event: events.TicketUpdated) -> None:
    # A status change is an update too; "status changed" triggers run after the others.
    names = ["ticket.updated", "ticket.status_changed"] if "status" in event.changes else ["ticket.updated"]
    services.run_triggers_for(
        event_names=names,
        organization_id=event.organization_id,
        ticket_id=event.ticket_id,
        ticket=event.ticket,
    )


@events.in_transaction
def on_message_created(event: events.MessageCreated) -> None:
    if not event.is_public:
        return  # An internal note is no reply.
    services.run_triggers(
        event_name="customer.replied" if event.actor.is_customer else "agent.replied",
        organization_id=event.organization_id,
        ticket_id=event.ticket_id,
        message_id=event.message_id,
        ticket=event.ticket,
    )


@events.in_transaction
def on_sla_event(event: events.SlaWarning | events.SlaBreached) -> None:
    # Told by the SLA scheduler inside its transaction, with the ticket's markers stored:
    # what a trigger does commits with the warning or breach, or neither does.
    services.run_triggers(
        event_name=event.name, organization_id=event.organization_id, ticket_id=event.ticket_id
    )


@events.in_transaction
def on_organization_created(event: events.OrganizationCreated) -> None:
    organization = Organization.objects.get(pk=event.organization_id)
    services.ensure_default_triggers(organization=organization)


def register() -> None:
    events.subscribe(events.OrganizationCreated, on_organization_created)
    events.subscribe(events.TicketCreated, on_ticket_created)
    events.subscribe(events.TicketUpdated, on_ticket_updated)
    events.subscribe(events.MessageCreated, on_message_created)
    events.subscribe(events.SlaWarning, on_sla_event)
    events.subscribe(events.SlaBreached, on_sla_event)
