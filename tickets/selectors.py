"""Reads that more than one face needs, scoped to who is asking."""

from django.db.models import Count, Prefetch, Q

from accounts.models import Membership, User

from .exceptions import InvalidInput, NotFound, PermissionDenied
from .models import Inbox, Message, Ticket
from .querysets import OPEN_STATUSES


def resolve_inbox(
    *, organization_ids, restricted_inbox_id=None, public_id: str = "", field_name="inbox"
) -> Inbox:
    """The inbox a new ticket goes to.

    Named explicitly; else the one a key is restricted to; else the organization's default
    inbox; else its only inbox. Another organization's inbox is "not found", never
    "forbidden", so a key learns nothing about what it cannot see.
    """
    # get() rather than first(): both fields are unique, and first() would sort by the
    # model's ordering, a join with the organization on every ticket created.
    inboxes = Inbox.objects.filter(organization_id__in=organization_ids).select_related("organization")
    if public_id:
        try:
            inbox = inboxes.get(public_id=public_id)
        except Inbox.DoesNotExist:
            raise NotFound("Inbox not found.") from None
        if restricted_inbox_id is not None and inbox.pk != restricted_inbox_id:
            raise PermissionDenied("This API key is restricted to another inbox.")
        return inbox
    if restricted_inbox_id is not None:
        return inboxes.get(pk=restricted_inbox_id)
    if len(organization_ids) == 1:
        try:
            return inboxes.get(is_default=True)
        except Inbox.DoesNotExist:
            pass
    candidates = list(inboxes[:2])
    if len(candidates) == 1:
        return candidates[0]
    raise InvalidInput(field_name, "Name the inbox: this organization has several and no default.")


def thread_prefetch(*, include_notes: bool = True) -> Prefetch:
    """A ticket's messages with their authors and attachments, in two queries."""
    messages = Message.objects.select_related("author_user", "author_customer").prefetch_related(
        "attachments"
    )
    if not include_notes:
        messages = messages.filter(kind=Message.Kind.REPLY)
    return Prefetch("messages", queryset=messages)


def ticket_with_thread(queryset, *, include_notes: bool = True):
    """Tickets with their messages, authors and attachments in a fixed number of queries."""
    return queryset.prefetch_related(thread_prefetch(include_notes=include_notes))


def tickets_for_principal(principal):
    tickets = Ticket.objects.filter(organization_id__in=principal.organization_ids)
    if principal.restricted_inbox_id is not None:
        tickets = tickets.filter(inbox_id=principal.restricted_inbox_id)
    if principal.is_customer:
        tickets = tickets.filter(customer=principal.customer)
    return tickets


def find_agent(*, organization_id: int, reference, field_name: str = "assignee"):
    """An active agent of the organization by id (number) or email; None for "nobody"."""

    if reference in (None, ""):
        return None
    reference = str(reference).strip()
    if len(reference) > 254 or "\x00" in reference:
        # No email is longer, and neither can reach the database: SQLite refuses a LIKE
        # pattern this long and PostgreSQL any NUL (both were 500s from the dashboard).
        raise InvalidInput(field_name, "Not an agent of this organization.")
    agents = User.objects.filter(memberships__organization_id=organization_id, is_active=True)
    if reference.isdigit():
        # Longer than any id: not found, rather than an out-of-range error from the database.
        agent = agents.filter(pk=int(reference)).first() if len(reference) <= 18 else None
    else:
        agent = agents.filter(email__iexact=reference).first()
    if agent is None:
        raise InvalidInput(field_name, "Not an agent of this organization.")
    return agent


def memberships_with_open_tickets(organization):
    """The organization's memberships, each with ``open_tickets``: its person's open tickets there."""
    return Membership.objects.filter(organization=organization).annotate(
        open_tickets=Count(
            "user__assigned_tickets",
            filter=Q(
                user__assigned_tickets__organization=organization,
                user__assigned_tickets__status__in=OPEN_STATUSES,
            ),
        )
    )
