"""Merge, split and link from the ticket page (issue 16, item 9).

The agent names the other ticket as they see it, by its reference ("INV-1042", "#1042"
in a one-inbox team works too) or its id; only the current organization's tickets are found.
"""

from django.contrib import messages
from django.http import Http404
from django.views.decorators.http import require_POST

from tickets import services
from tickets.exceptions import HelpdeskError, InvalidInput
from tickets.models import Message, Ticket

from .common import agent_required, back_to_ticket, get_ticket, organization_tickets, report_error


def find_ticket(request, reference: str, *, field: str) -> Ticket:
    """The organization's ticket an agent typed: its reference, its number, or its id."""
    typed = reference.strip().lstrip("#").strip()
    if not typed:
        raise InvalidInput(field, "Type the reference of a ticket, e.g. INV-1042.")
    tickets = organization_tickets(request)
    found = tickets.filter(reference__iexact=typed).first() or tickets.filter(public_id=typed.upper()).first()
    if found is None and typed.isdigit():
        numbered = list(tickets.filter(number=int(typed))[:2])
        found = numbered[0] if len(numbered) == 1 else None
    if found is None:
        raise InvalidInput(field, f"No ticket {typed} in this organization.")
    return found


@require_POST
@agent_required
def merge(request, public_id):
    source = get_ticket(request, public_id)
    try:
        target = find_ticket(request, request.POST.get("into", "")[:64], field="into")
        target = services.merge_tickets(source=source, target=target, actor=request.actor)
    except HelpdeskError as error:
        report_error(request, error, prefix="Not merged. ")
        return back_to_ticket(request, source)
    messages.success(request, f"{source.reference} was merged into {target.reference}.")
    return back_to_ticket(request, target)


@require_POST
@agent_required
def split(request, public_id, message_id):
    ticket = get_ticket(request, public_id)
    message = Message.objects.filter(ticket=ticket, public_id=message_id).first()
    if message is None:
        raise Http404("No such message on this ticket.")
    try:
        new = services.split_ticket(
            ticket=ticket, message=message, actor=request.actor, subject=request.POST.get("subject", "")[:300]
        )
    except HelpdeskError as error:
        report_error(request, error, prefix="Not split. ")
        return back_to_ticket(request, ticket)
    messages.success(request, f"The message is now {new.reference}, linked to {ticket.reference}.")
    return back_to_ticket(request, new)


@require_POST
@agent_required
def link(request, public_id):
    ticket = get_ticket(request, public_id)
    try:
        other = find_ticket(request, request.POST.get("ticket", "")[:64], field="ticket")
        created = services.link_tickets(ticket=ticket, other=other, actor=request.actor)
    except HelpdeskError as error:
        report_error(request, error, prefix="Not linked. ")
    else:
        if created:
            messages.success(request, f"{other.reference} is now related to {ticket.reference}.")
        else:
            messages.info(request, f"{other.reference} was already related.")
    return back_to_ticket(request, ticket)


@require_POST
@agent_required
def unlink(request, public_id, other_id):
    ticket = get_ticket(request, public_id)
    other = get_ticket(request, other_id)
    try:
        removed = services.unlink_tickets(ticket=ticket, other=other, actor=request.actor)
    except HelpdeskError as error:
        report_error(request, error)
    else:
        if removed:
            messages.success(request, f"{other.reference} is no longer related.")
    return back_to_ticket(request, ticket)
