"""What the outside world hears about a change: called by services after commit.

Each function receives ids (the transaction has committed, so rows are read fresh),
records one queued ``Delivery`` per email — rendered now, so the row says exactly what
will be sent — and hands the sending to background tasks (tickets/tasks.py). With
``SUPPORT_EMAIL_SENDER=none`` nothing is recorded: tickets are only stored.

These run in ``transaction.on_commit`` callbacks of requests whose change is already
committed, so they never raise: a failure here is logged, and must not turn a stored
ticket into an error answer.
"""

import functools
import logging

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from .mail import addresses, outbound
from .models import Customer, Delivery, Message, Ticket, TicketEvent

logger = logging.getLogger(__name__)

Kind = Delivery.Kind


def _never_raise(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except Exception:
            logger.exception("Notification %s%r failed", function.__name__, args)
            return []

    return wrapper


def _is_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def customer_address(ticket: Ticket) -> str:
    """Where the customer wants answers: the ticket's reply address when it is an email."""
    reply = (ticket.reply_address or "").strip()
    address = reply if reply and _is_email(reply) else ticket.customer.email
    if not address or addresses.is_own_address(address):
        # Never mail ourselves: that is how loops start.
        return ""
    return address


def _load_ticket(ticket_id: int) -> Ticket | None:
    return (
        Ticket.objects.select_related("organization", "inbox", "customer", "assignee")
        .filter(pk=ticket_id)
        .first()
    )


def _base_context(ticket: Ticket) -> dict:
    return {
        "ticket": ticket,
        "organization": ticket.organization,
        "inbox": ticket.inbox,
        "customer": ticket.customer,
        "reply_marker": bool(addresses.reply_address(ticket)),
    }


def _to_customer(ticket: Ticket, **fields) -> Delivery | None:
    return outbound.queue_delivery(
        recipient=customer_address(ticket),
        ticket=ticket,
        reply_to=addresses.reply_address(ticket) or ticket.inbox.notification_address,
        **fields,
    )


def _to_staff(ticket: Ticket, recipient: str, **fields) -> Delivery | None:
    return outbound.queue_delivery(
        recipient=recipient,
        ticket=ticket,
        reply_to=addresses.reply_address(ticket) or ticket.customer.email,
        **fields,
    )


def _send(deliveries) -> list[Delivery]:
    deliveries = [delivery for delivery in deliveries if delivery is not None]
    from . import tasks

    tasks.enqueue_deliveries([delivery.pk for delivery in deliveries])
    return deliveries


@_never_raise
def ticket_created(ticket_id: int) -> list[Delivery]:
    """A new ticket: a copy to the support address, the private link to the customer.

    The assignee (auto-assignment) hears through ``ticket_assigned``, called by the same
    service. Both Delivery rows exist (queued) before any task is enqueued.
    """
    if not outbound.sending_enabled():
        return []
    ticket = _load_ticket(ticket_id)
    if ticket is None:
        return []
    first = ticket.messages.select_related("author_customer").order_by("created_at", "id").first()
    context = {
        **_base_context(ticket),
        **outbound.message_context(first),
        "dashboard_url": outbound.dashboard_url(ticket),
        "private_url": ticket.private_url,
    }
    organization = ticket.organization.name
    with transaction.atomic():
        return _send(
            [
                _to_staff(
                    ticket,
                    ticket.inbox.notification_address,
                    kind=Kind.NEW_TICKET,
                    template="new_ticket",
                    context=context,
                    message=first,
                    from_name=f"{ticket.customer.display_name} via {organization}",
                    automatic=outbound.AUTO_GENERATED,
                ),
                _to_customer(
                    ticket,
                    kind=Kind.CONFIRMATION,
                    template="confirmation",
                    context=context,
                    message=first,
                    from_name=f"{organization} Support",
                    automatic=outbound.AUTO_REPLIED,
                ),
            ]
        )


@_never_raise
def message_added(message_id: int) -> list[Delivery]:
    """A reply or a note: replies are mailed to the other side; notes never leave."""
    if not outbound.sending_enabled():
        return []
    message = (
        Message.objects.select_related("author_user", "author_customer", "ticket")
        .filter(pk=message_id)
        .first()
    )
    if message is None or message.kind != Message.Kind.REPLY:
        return []
    ticket = _load_ticket(message.ticket_id)
    context = {
        **_base_context(ticket),
        **outbound.message_context(message),
        "dashboard_url": outbound.dashboard_url(ticket),
        "private_url": ticket.private_url,
    }
    organization = ticket.organization.name
    with transaction.atomic():
        if message.author_type == Message.AuthorType.CUSTOMER:
            recipient = ticket.assignee.email if ticket.assignee else ticket.inbox.notification_address
            delivery = _to_staff(
                ticket,
                recipient,
                kind=Kind.CUSTOMER_REPLY,
                template="customer_reply",
                context=context,
                message=message,
                from_name=f"{message.author_name} via {organization}",
                automatic=outbound.AUTO_GENERATED,
            )
        else:
            delivery = _to_customer(
                ticket,
                kind=Kind.AGENT_REPLY,
                template="agent_reply",
                context=context,
                message=message,
                from_name=f"{message.author_name} ({organization})",
            )
        return _send([delivery])


def _latest_event(ticket: Ticket, action: str) -> TicketEvent | None:
    return ticket.events.filter(action=action).order_by("-created_at", "-id").first()


@_never_raise
def status_changed(ticket_id: int, old_status: str, new_status: str) -> list[Delivery]:
    """Resolved or closed: the customer is told (once, and not about their own closing)."""
    Status = Ticket.Status
    if not outbound.sending_enabled() or new_status not in {Status.RESOLVED, Status.CLOSED}:
        return []
    if new_status == Status.CLOSED and old_status == Status.RESOLVED:
        return []  # They heard at "resolved"; closing it for good is bookkeeping.
    ticket = _load_ticket(ticket_id)
    if ticket is None or ticket.status != new_status:
        return []
    event = _latest_event(ticket, TicketEvent.Action.STATUS_CHANGED)
    if event is not None and event.actor_customer_id == ticket.customer_id:
        return []
    context = {
        **_base_context(ticket),
        "new_status": Status(new_status).label,
        "private_url": ticket.private_url,
    }
    with transaction.atomic():
        return _send(
            [
                _to_customer(
                    ticket,
                    kind=Kind.STATUS,
                    template="status",
                    context=context,
                    from_name=f"{ticket.organization.name} Support",
                    automatic=outbound.AUTO_GENERATED,
                )
            ]
        )


@_never_raise
def ticket_assigned(ticket_id: int) -> list[Delivery]:
    """The new assignee is told by email (unless they took the ticket themselves)."""
    if not outbound.sending_enabled():
        return []
    ticket = _load_ticket(ticket_id)
    if ticket is None or ticket.assignee is None:
        return []
    event = _latest_event(ticket, TicketEvent.Action.ASSIGNED)
    if event is not None and event.actor_user_id == ticket.assignee_id:
        return []
    first = ticket.messages.select_related("author_customer").order_by("created_at", "id").first()
    context = {
        **_base_context(ticket),
        **outbound.message_context(first),
        "assignee": ticket.assignee,
        "assigned_by": event.actor_label if event else "",
        "dashboard_url": outbound.dashboard_url(ticket),
    }
    with transaction.atomic():
        return _send(
            [
                _to_staff(
                    ticket,
                    ticket.assignee.email,
                    kind=Kind.ASSIGNED,
                    template="assigned",
                    context=context,
                    from_name=f"{ticket.organization.name} Helpdesk",
                    automatic=outbound.AUTO_GENERATED,
                )
            ]
        )


@_never_raise
def portal_link_requested(customer_id: int, link: str) -> list[Delivery]:
    """A customer asked to sign in to the portal: mail them the sign-in link."""
    if not outbound.sending_enabled():
        return []
    customer = Customer.objects.select_related("organization").filter(pk=customer_id).first()
    if customer is None or not customer.email or addresses.is_own_address(customer.email):
        return []
    context = {"customer": customer, "organization": customer.organization, "link": link}
    with transaction.atomic():
        return _send(
            [
                outbound.queue_delivery(
                    kind=Kind.PORTAL_LINK,
                    recipient=customer.email,
                    template="portal_link",
                    context=context,
                    from_name=f"{customer.organization.name} Support",
                    automatic=outbound.AUTO_GENERATED,
                )
            ]
        )
