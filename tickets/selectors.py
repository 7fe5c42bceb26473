"""Reads that more than one face needs, scoped to who is asking."""

import time

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Case, Count, Prefetch, Q, Value, When, prefetch_related_objects

from accounts.models import Membership, User

from .exceptions import InvalidInput, NotFound, PermissionDenied
from .models import Inbox, Message, Notification, Ticket, TicketLink
from .querysets import OPEN_STATUSES

# Inboxes a create resolved, by (organization, its inboxes_version, the key's inbox,
# the inbox named): each one's column values, read once per version by each process.
# A new version (any change to an inbox of the organization) names new entries; the old
# ones are never asked for again and go when the map is full. A copy is also read again
# after a minute: a change that named no version (an older process during a rolling
# deploy, an operator's SQL) is seen within that minute, not at the next restart.
_resolved: dict[tuple, tuple[float, str, tuple]] = {}
_RESOLVED_MAX = 1024
RESOLVED_SECONDS = 60


def resolve_inbox(principal, *, public_id: str = "", field_name: str = "inbox") -> Inbox:
    """The inbox a caller's new ticket goes to, with its organization.

    Named explicitly; else the one a key is restricted to; else the organization's default
    inbox; else its only inbox. Another organization's inbox is "not found", never
    "forbidden", so a key learns nothing about what it cannot see. An API key's
    organization came with the key: its inbox is then read without joining it again, and
    once per version of the organization's inboxes (``Organization.inboxes_version``, on
    that row), whichever face the key calls.
    """
    restricted_inbox_id = principal.restricted_inbox_id
    if not principal.is_integrator:
        return _resolve_inbox(
            Inbox.objects.filter(organization_id__in=principal.organization_ids).select_related(
                "organization"
            ),
            organization_ids=principal.organization_ids,
            restricted_inbox_id=restricted_inbox_id,
            public_id=public_id,
            field_name=field_name,
        )
    organization = principal.api_key.organization
    version = organization.inboxes_version
    key = (organization.pk, version, restricted_inbox_id, public_id)
    known = _resolved.get(key) if version else None
    if known is not None and time.monotonic() - known[0] < RESOLVED_SECONDS:
        _, database, values = known
        inbox = Inbox.from_db(database, _INBOX_COLUMNS, values)
    else:
        inbox = _resolve_inbox(
            Inbox.objects.filter(organization_id=organization.pk),
            organization_ids={organization.pk},
            restricted_inbox_id=restricted_inbox_id,
            public_id=public_id,
            field_name=field_name,
        )
        if version:
            if len(_resolved) >= _RESOLVED_MAX:
                _resolved.clear()
            _resolved[key] = (
                time.monotonic(),
                inbox._state.db,
                tuple(getattr(inbox, name) for name in _INBOX_COLUMNS),
            )
    inbox.organization = organization
    return inbox


_INBOX_COLUMNS = [field.attname for field in Inbox._meta.concrete_fields]


def _resolve_inbox(
    inboxes, *, organization_ids, restricted_inbox_id, public_id: str, field_name: str
) -> Inbox:
    # get() rather than first(): both fields are unique, and first() would sort by the
    # model's ordering, a join with the organization on every ticket created.
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


def hold_related(instance, relation: str, rows: list) -> None:
    """Make ``instance.<relation>.all()`` answer ``rows`` without a query.

    For rows a service has just written and handed back: it fills the cache that
    ``prefetch_related`` fills (and that ``prefetch_related_objects`` then skips), as
    Django's ``prefetch_one_level`` does. Like any prefetched relation it does not see
    later writes made through other instances, so use it only to answer at once.
    """
    queryset = getattr(instance, relation).get_queryset()
    queryset._result_cache = list(rows)
    queryset._prefetch_done = True
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[relation] = queryset


def answer_from_created(ticket) -> None:
    """A ticket just returned by ``create_ticket``, ready to render with no query: its
    inbox and customer are in hand already; this hands over its tags and thread."""
    if getattr(ticket, "changed_by_subscribers", False):
        # A trigger acted on it (perhaps adding a note): its thread is read back.
        hold_related(ticket, "tags", ticket.initial_tags)
        prefetch_related_objects([ticket], thread_prefetch())
        return
    message = ticket.first_message
    hold_related(message, "attachments", message.stored_attachments)
    hold_related(ticket, "tags", ticket.initial_tags)
    hold_related(ticket, "messages", [message])


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


# A member who can work: an active account whose invitation was accepted. An invited person
# accepts by choosing a password (accounts.services.invite_member); until then the account
# has an unusable one and cannot sign in.
CAN_SIGN_IN = Q(user__is_active=True) & ~Q(user__password__startswith=UNUSABLE_PASSWORD_PREFIX)


def memberships_with_open_tickets(organization):
    """The organization's memberships, each with ``open_tickets``: its person's open tickets
    there, and ``presence``: "available", "away", "invited" (not accepted yet) or
    "inactive" (the account is switched off). Only "available" members are auto-assigned."""
    return Membership.objects.filter(organization=organization).annotate(
        presence=Case(
            When(user__is_active=False, then=Value("inactive")),
            When(user__password__startswith=UNUSABLE_PASSWORD_PREFIX, then=Value("invited")),
            When(is_available=True, then=Value("available")),
            default=Value("away"),
        ),
        open_tickets=Count(
            "user__assigned_tickets",
            filter=Q(
                user__assigned_tickets__organization=organization,
                user__assigned_tickets__status__in=OPEN_STATUSES,
            ),
        ),
    )


def notifications_for(user):
    """The agent's notifications about organizations they belong to now.

    Membership is read at every request, not when the notification was written: someone
    removed from an organization no longer sees its tickets' references and subjects in
    the bell. Notifications about no ticket are the person's own and always shown.
    """
    organizations = Membership.objects.filter(user=user).values("organization_id")
    return Notification.objects.filter(user=user).filter(
        Q(ticket__isnull=True) | Q(ticket__organization_id__in=organizations)
    )


def unread_notification_count(user) -> int:
    return notifications_for(user).filter(read_at__isnull=True).count()


# How far a chain of merges is followed (a merged ticket's target merged in turn): merges
# never loop (merge_tickets refuses it), this only bounds a read of damaged rows.
MAX_MERGE_CHAIN = 20


def merge_destination(ticket: Ticket) -> Ticket:
    """The ticket a merged ticket now lives on (following merges of merges); itself when
    it was never merged."""
    seen = {ticket.pk}
    while ticket.merged_into_id is not None and len(seen) <= MAX_MERGE_CHAIN:
        into = (
            Ticket.objects.select_related("organization", "inbox", "customer")
            .filter(pk=ticket.merged_into_id)
            .first()
        )
        if into is None or into.pk in seen:
            break
        seen.add(into.pk)
        ticket = into
    return ticket


def links_of(ticket: Ticket) -> list[TicketLink]:
    """The ticket's links with the other tickets read, oldest first."""
    return list(
        TicketLink.objects.filter(ticket=ticket)
        .select_related("other")
        .only(
            "kind",
            "created_at",
            "ticket_id",
            "other__public_id",
            "other__reference",
            "other__subject",
            "other__status",
        )
    )
