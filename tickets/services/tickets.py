"""Tickets: opening one, and every change to its fields, tags, assignee and status.

``update_ticket`` is the one path for a change: whatever face asks, the fields, the tags,
the assignee and the status given together are applied in one order, under one lock,
with one set of rules (below), and told as one set of events.
"""

from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership, Organization
from tickets import events, limits, outbox, search
from tickets.actors import Actor
from tickets.exceptions import (
    DailyLimitReached,
    IdempotencyConflict,
    InvalidInput,
    InvalidTransition,
    MergeConflict,
    PermissionDenied,
    QuotaReached,
)
from tickets.models import Customer, Inbox, Message, Ticket, TicketEvent, new_access_key
from tickets.rendering import render_markdown
from tickets.selectors import CAN_SIGN_IN, memberships_with_open_tickets

from . import custom_fields as custom_field_rules
from . import idempotency
from .attachments import UploadedFile, store_attachments, validate_attachments
from .customers import PROVISIONAL_PREFIX, CustomerData, NewCustomerRace, is_provisional, upsert_customer
from .history import new_event, record_event
from .inboxes import is_our_address
from .tags import resolve_tags
from .validation import validate_body, validate_choice, validate_length, validate_metadata, validate_subject

Status = Ticket.Status

# Which status may follow which. Who may make each move is narrowed in update_ticket.
# Pending (waiting on the customer) and on hold (waiting on a third party) are unsolved,
# like open and in progress: an agent moves freely among the four.
_UNSOLVED = frozenset({Status.OPEN, Status.IN_PROGRESS, Status.PENDING, Status.ON_HOLD})
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    **{status: (_UNSOLVED | {Status.RESOLVED, Status.CLOSED}) - {status} for status in _UNSOLVED},
    Status.RESOLVED: frozenset({Status.OPEN, Status.IN_PROGRESS, Status.CLOSED}),
    Status.CLOSED: frozenset({Status.OPEN}),
}

# A customer may close their own ticket and reopen a resolved one; nothing else.
CUSTOMER_TRANSITIONS: dict[str, frozenset[str]] = {
    **{status: frozenset({Status.CLOSED}) for status in _UNSOLVED},
    Status.RESOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}

# What a public reply does to the status, by who wrote it. A customer's reply reopens a
# resolved ticket, brings back one that waited on them (pending) or on someone else (on
# hold), and is refused on a closed one (closed is final but for an agent's reopen); the
# organization's first answer means someone is working on it.
AFTER_CUSTOMER_REPLY: dict[str, str] = {
    Status.RESOLVED: Status.OPEN,
    Status.PENDING: Status.OPEN,
    Status.ON_HOLD: Status.OPEN,
}
CUSTOMER_MAY_NOT_REPLY: frozenset[str] = frozenset({Status.CLOSED})
AFTER_AGENT_REPLY: dict[str, str] = {Status.OPEN: Status.IN_PROGRESS}

# Giving an open ticket an assignee means someone is working on it, unless the same call
# names the status it wants.
AFTER_ASSIGNMENT: dict[str, str] = {Status.OPEN: Status.IN_PROGRESS}

# Who resolves a ticket left pending past its inbox's auto_resolve_pending_days.
AUTO_RESOLVE_ACTOR = "Auto-resolve"


# Tickets another service call changed while this one was publishing its events: a
# subscriber in the transaction (a trigger) acting on the same ticket through
# update_ticket, on its own instance. The publishing service reads the ticket back then,
# so it answers with what is stored.
_changed_meanwhile: ContextVar[set | None] = ContextVar("tickets_changed_meanwhile", default=None)


@contextmanager
def _watching_changes():
    touched: set = set()
    token = _changed_meanwhile.set(touched)
    try:
        yield touched
    finally:
        _changed_meanwhile.reset(token)


def note_ticket_changed(ticket: Ticket) -> None:
    """Tell a ``publish_and_reload`` under way that a subscriber changed ``ticket``."""
    touched = _changed_meanwhile.get()
    if touched is not None:
        touched.add(ticket.pk)


def publish_and_reload(ticket: Ticket, event: events.DomainEvent) -> bool:
    """Publish ``event``; when a subscriber changed ``ticket`` meanwhile, read it back
    (fields and tags). Returns whether it did."""
    with _watching_changes() as touched:
        events.publish(event)
    if ticket.pk not in touched:
        return False
    ticket.refresh_from_db()
    getattr(ticket, "_prefetched_objects_cache", {}).pop("tags", None)
    return True


def _start_of_today() -> datetime:
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def seconds_until_next_month() -> int:
    start = _start_of_today().replace(day=1)
    next_month = (start + timedelta(days=32)).replace(day=1)
    return max(int((next_month - timezone.now()).total_seconds()), 1)


def pick_auto_assignee(organization: Organization):
    """The available N1 agent with the fewest open tickets (then the longest-standing).

    Never someone invited who has not accepted yet, nor an inactive account."""
    membership = (
        memberships_with_open_tickets(organization)
        .filter(CAN_SIGN_IN, tier=Membership.Tier.N1, is_available=True)
        .order_by("open_tickets", "created_at", "pk")
        .select_related("user")
        .first()
    )
    return membership.user if membership else None


def take_ticket_number(inbox: Inbox) -> tuple[int, str]:
    """The inbox's next ticket number (and its prefix), taken in one statement.

    The UPDATE locks the inbox row until the transaction ends, so numbers are consecutive
    with no gaps or repeats across processes; RETURNING saves the SELECT ... FOR UPDATE.
    """
    table = connection.ops.quote_name(Inbox._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET next_number = next_number + 1 WHERE id = %s "  # noqa: S608 - a model's table
            "RETURNING next_number - 1, prefix",
            [inbox.pk],
        )
        return cursor.fetchone()


def _check_daily_limit(inbox: Inbox, customer: Customer, *, customer_is_new: bool) -> None:
    if inbox.daily_limit_per_customer is None:
        return
    start = _start_of_today()
    theirs = Q(customer=customer)
    if customer.email:
        # Requests typed with their address and waiting on a provisional record count too.
        theirs |= Q(
            reply_address__iexact=customer.email, customer__external_id__startswith=PROVISIONAL_PREFIX
        )
    today = Ticket.objects.filter(inbox=inbox, created_at__gte=start).filter(theirs)
    if (0 if customer_is_new else today.count()) >= inbox.daily_limit_per_customer:
        retry_after = int((start + timedelta(days=1) - timezone.now()).total_seconds())
        raise DailyLimitReached(
            f"This customer has reached the limit of {inbox.daily_limit_per_customer} "
            "new tickets per day in this inbox.",
            retry_after_seconds=max(retry_after, 1),
        )


def _check_monthly_quota(organization: Organization) -> None:
    if organization.monthly_ticket_quota is None:
        return
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    month_start = _start_of_today().replace(day=1)
    used = Ticket.objects.filter(organization=organization, created_at__gte=month_start)
    if used.count() >= organization.monthly_ticket_quota:
        raise QuotaReached(
            "The monthly ticket quota of this organization's plan is used up.",
            retry_after_seconds=seconds_until_next_month(),
        )


def _check_outbound(customer: CustomerData | Customer, actor: Actor) -> None:
    """An email the organization writes first needs an agent to write it and an address
    that is not ours to send it to (mail to ourselves is never sent)."""
    if actor.user is None or actor.is_customer:
        raise PermissionDenied("Only an agent can start a conversation.")
    address = (customer.email or "").strip()
    if not address:
        raise InvalidInput("customer.email", "An email needs the customer's email address.")
    if is_our_address(address):
        raise InvalidInput("customer.email", "This is one of our own addresses; enter the customer's.")


def create_ticket(
    *,
    inbox: Inbox,
    customer: CustomerData | Customer,
    subject: str,
    message: str,
    actor: Actor,
    priority: str = Ticket.Priority.NORMAL,
    category: str = "",
    type: str = "",  # noqa: A002 - the domain's own word
    channel: str = Ticket.Channel.API,
    dialect: str = "",
    metadata: dict | None = None,
    custom_fields: dict | None = None,
    custom_fields_from_metadata: bool = False,
    tags: Iterable = (),
    reply_address: str = "",
    attachments: Sequence[UploadedFile] = (),
    idempotency_key: str = "",
    auto_assign: bool | None = None,
    email_message_id: str = "",
    raw_email: str = "",
    sender_unverified: bool = False,
    outbound: bool = False,
) -> tuple[Ticket, bool]:
    """Open a ticket for a customer (found or created) with its first message.

    ``outbound``: the organization writes first (an agent starting a conversation by
    email). The first message is then the acting agent's public reply, nobody waits for
    us, and the ticket starts pending, waiting on the customer; it is assigned to that
    agent when the inbox assigns on reply (``assign_on_reply``). The notifications mail
    that message to the customer instead of the usual confirmation.

    ``dialect``: the seed product's API the request came through ("supportdesk"...), for
    the triggers that tell them apart (SupportDesk promises no mail to the customer).

    ``sender_unverified``: the customer typed their address (support form, email) and has
    not proven it yet (``confirm_sender`` records the proof). ``custom_fields`` are checked
    against the inbox's fields (a bad one is refused, naming ``custom_fields.<key>``);
    ``custom_fields_from_metadata`` fills, as well, the fields whose keys the free-form
    ``metadata`` names and whose values fit (a dialect's metadata is never refused).

    Returns ``(ticket, created)``; ``created`` is False when ``idempotency_key`` was seen
    before from the same credential with the same request, and the earlier ticket is
    returned. ``auto_assign`` None follows the inbox's setting. A new ticket carries what
    was written with it, so a face can answer without reading it back:
    ``ticket.initial_tags``, ``ticket.first_message`` and its ``stored_attachments``;
    ``ticket.changed_by_subscribers`` says a trigger changed it meanwhile (a note may have
    joined the thread, which is then read back).
    """
    subject = validate_subject(subject)
    message = validate_body(message)
    metadata = validate_metadata(metadata)
    priority = validate_choice(priority, Ticket.Priority, field_name="priority")
    channel = validate_choice(channel, Ticket.Channel, field_name="channel")
    validate_length(dialect, limits.DIALECT_MAX_LENGTH, field_name="dialect")
    validate_length(category, limits.CATEGORY_MAX_LENGTH, field_name="category")
    validate_length(type, limits.TYPE_MAX_LENGTH, field_name="type")
    validate_length(reply_address, limits.REPLY_ADDRESS_MAX_LENGTH, field_name="reply_address")
    validate_attachments(attachments)
    idempotency_key = idempotency.validate_key(idempotency_key)
    if outbound:
        _check_outbound(customer, actor)
    field_values = {}
    if custom_fields_from_metadata and metadata:
        field_values = custom_field_rules.matching_values(
            metadata, organization_id=inbox.organization_id, inbox_id=inbox.pk
        )
    if custom_fields:
        field_values = custom_field_rules.merged(
            field_values,
            custom_field_rules.validate_values(
                custom_fields, organization_id=inbox.organization_id, inbox_id=inbox.pk
            ),
        )
    values = {
        "inbox": inbox,
        "customer": customer,
        "subject": subject,
        "message": message,
        "actor": actor,
        "priority": priority,
        "category": category,
        "type": type,
        "channel": channel,
        "dialect": dialect,
        "metadata": metadata,
        "custom_fields": field_values,
        "tags": list(tags),
        "reply_address": reply_address,
        "attachments": attachments,
        "idempotency_key": idempotency_key,
        "auto_assign": auto_assign,
        "email_message_id": email_message_id,
        "raw_email": raw_email,
        "sender_unverified": sender_unverified,
        "outbound": outbound,
    }
    if connection.in_atomic_block:
        # Inside a caller's transaction: a lost race for a new customer is handled by a
        # savepoint around its INSERT, as it cannot be run again from here.
        return _open_ticket(**values, customer_savepoint=True)
    # A transaction of our own (every API request): no savepoint (two round trips fewer);
    # if another request inserted the same new customer first, this one rolls back and
    # runs once more, and then finds that customer.
    try:
        return _open_ticket(**values, customer_savepoint=False)
    except NewCustomerRace:
        return _open_ticket(**values, customer_savepoint=True)


def _open_ticket(
    *,
    inbox: Inbox,
    customer: CustomerData | Customer,
    subject: str,
    message: str,
    actor: Actor,
    priority: str,
    category: str,
    type: str,  # noqa: A002
    channel: str,
    dialect: str,
    metadata: dict,
    custom_fields: dict,
    tags: list,
    reply_address: str,
    attachments: Sequence[UploadedFile],
    idempotency_key: str,
    auto_assign: bool | None,
    email_message_id: str,
    raw_email: str,
    sender_unverified: bool,
    outbound: bool,
    customer_savepoint: bool,
) -> tuple[Ticket, bool]:
    """create_ticket's one transaction, on values already validated."""
    organization = inbox.organization
    with outbox.atomic():
        claimed = None
        if idempotency_key:
            claimed, seen_before = idempotency.claim(
                organization,
                actor,
                idempotency_key,
                idempotency.fingerprint(
                    action="create_ticket",
                    inbox=inbox.pk,
                    customer=customer.pk if isinstance(customer, Customer) else asdict(customer),
                    subject=subject,
                    message=message,
                    priority=priority,
                    category=category,
                    type=type,
                    metadata=metadata,
                    **({"custom_fields": custom_fields} if custom_fields else {}),
                    tags=[str(getattr(tag, "pk", tag)) for tag in tags],
                    reply_address=reply_address,
                    **({"outbound": True} if outbound else {}),
                ),
            )
            if seen_before:
                if claimed.ticket is None:
                    raise IdempotencyConflict("This Idempotency-Key was used for another action.")
                return claimed.ticket, False

        customer_is_new = False
        if isinstance(customer, Customer):
            if customer.organization_id != organization.pk:
                raise InvalidInput("customer", "Unknown customer.")
        else:
            customer, customer_is_new = upsert_customer(
                organization=organization, data=customer, actor=actor, savepoint=customer_savepoint
            )
        if inbox.daily_limit_per_customer is not None and not customer_is_new:
            # Serialize this customer's creates so the daily count below is exact.  A customer
            # inserted by this transaction is invisible to every other one and has no tickets
            # yet, and an inbox without a limit counts nothing: no lock needed then.
            customer = Customer.objects.select_for_update().get(pk=customer.pk)
        # A provisional record (an existing customer's address typed by someone unproven)
        # counts against that address's customer: a new record each time must not lift it.
        limited = customer
        if is_provisional(customer) and reply_address:
            limited = Customer.objects.filter(organization=organization, email=reply_address.lower()).first()
        _check_daily_limit(inbox, limited or customer, customer_is_new=customer_is_new or limited is None)
        _check_monthly_quota(organization)

        # Everything the INSERTs need is built before the inbox's next number is taken: from
        # that UPDATE to the COMMIT the inbox row is locked, and every other create in the
        # inbox waits for it.
        ticket_tags = resolve_tags(organization, tags, field_name="tags", actor=actor) if tags else []
        now = timezone.now()
        if outbound:
            # We spoke first: nothing waits for our answer, the customer's answer is awaited.
            who_spoke = {"status": Status.PENDING, "first_response_at": now, "last_agent_reply_at": now}
            author = {"author_type": Message.AuthorType.AGENT, "author_user": actor.user}
        else:
            # The customer's first message opens the ticket: they have waited since now.
            who_spoke = {"last_customer_message_at": now, "customer_waiting_since": now}
            author = {"author_type": Message.AuthorType.CUSTOMER, "author_customer": customer}
        ticket = Ticket(
            organization=organization,
            inbox=inbox,
            subject=subject,
            priority=priority,
            category=category,
            type=type,
            channel=channel,
            dialect=dialect,
            customer=customer,
            reply_address=reply_address or customer.email,
            sender_unverified=sender_unverified,
            metadata=metadata,
            custom_fields=custom_fields,
            created_at=now,
            updated_at=now,
            **who_spoke,
        )
        first_message = Message(
            ticket=ticket,
            kind=Message.Kind.REPLY,
            **author,
            channel=channel,
            body=message,
            body_html=render_markdown(message),
            email_message_id=email_message_id[:255],
            raw_email=raw_email,
            created_at=now,
        )
        created_event = new_event(ticket, actor, TicketEvent.Action.CREATED, after={"status": ticket.status})

        # Subscribers fill what the INSERT writes with the row (the SLA clocks' due times).
        events.publish(
            events.TicketOpening(
                actor=actor,
                organization_id=organization.pk,
                ticket=ticket,
                tag_names=tuple(tag.name for tag in ticket_tags),
            )
        )

        ticket.number, prefix = take_ticket_number(inbox)
        ticket.reference = f"{prefix}-{ticket.number}"
        if search.is_supported():
            ticket.search_document = search.new_document(
                reference=ticket.reference, subject=subject, body=message
            )
        ticket.save(force_insert=True)
        if ticket_tags:
            ticket.tags.add(*ticket_tags)
        first_message.save(force_insert=True)
        created_event.save(force_insert=True)
        # What was written, for a caller that answers with it instead of reading it back.
        first_message.stored_attachments = store_attachments(first_message, attachments)
        ticket.first_message = first_message
        ticket.initial_tags = ticket_tags
        # The first message is part of ticket.created: no message.created of its own.
        if publish_and_reload(
            ticket,
            events.TicketCreated(
                actor=actor, organization_id=organization.pk, ticket_id=ticket.pk, ticket=ticket
            ),
        ):
            ticket.initial_tags = list(ticket.tags.all())
            ticket.changed_by_subscribers = True

        should_assign = (
            inbox.auto_assignment == Inbox.AutoAssignment.LEAST_LOADED_N1
            if auto_assign is None
            else auto_assign
        )
        # A trigger that assigned the new ticket has decided already.
        if outbound:
            # Whoever writes first is handling it, as with a reply (the inbox's setting).
            if (
                ticket.assignee_id is None
                and inbox.assign_on_reply
                and is_assignable(organization.pk, actor.user)
            ):
                _apply_changes(ticket, actor, assignee=actor.user)
        elif should_assign and ticket.assignee_id is None:
            assignee = pick_auto_assignee(organization)
            if assignee is not None:
                _apply_changes(ticket, Actor.system("Auto-assignment"), assignee=assignee)

        if claimed is not None:
            claimed.ticket = ticket
            claimed.save(update_fields=["ticket"])
    return ticket, True


def lock_ticket(ticket: Ticket) -> Ticket:
    return (
        Ticket.objects.select_for_update()
        .select_related("organization", "inbox", "customer")
        .get(pk=ticket.pk)
    )


_UNSET = object()


def _check_transition(ticket: Ticket, status: str, actor: Actor) -> None:
    if ticket.merged_into_id is not None:
        # Its thread lives on the ticket it was merged into: reopening it would split the
        # conversation in two again.
        raise MergeConflict("This ticket was merged into another; it stays closed.")
    allowed = CUSTOMER_TRANSITIONS if actor.is_customer else ALLOWED_TRANSITIONS
    if status not in allowed[ticket.status]:
        raise InvalidTransition(
            f"A {ticket.get_status_display().lower()} ticket cannot become "
            f"{Ticket.Status(status).label.lower()}" + (" by its customer." if actor.is_customer else ".")
        )


def set_status_locked(ticket: Ticket, new_status: str, actor: Actor) -> None:
    """Move a locked ticket to ``new_status`` (already checked), with its timestamps and event."""
    old_status = ticket.status
    now = timezone.now()
    ticket.status = new_status
    ticket.updated_at = now
    if new_status == Status.RESOLVED:
        ticket.resolved_at = now
    elif new_status == Status.CLOSED:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    else:
        ticket.resolved_at = None
        ticket.closed_at = None
    days = ticket.inbox.auto_resolve_pending_days if new_status == Status.PENDING else None
    ticket.auto_resolve_at = now + timedelta(days=days) if days else None
    ticket.save(update_fields=["status", "updated_at", "resolved_at", "closed_at", "auto_resolve_at"])
    record_event(
        ticket, actor, TicketEvent.Action.STATUS_CHANGED, field="status", before=old_status, after=new_status
    )
    events.publish(
        events.TicketStatusChanged(
            actor=actor,
            organization_id=ticket.organization_id,
            ticket_id=ticket.pk,
            before=old_status,
            after=new_status,
            ticket=ticket,
        )
    )


def _validated_changes(ticket_fields: dict) -> dict:
    changes = {}
    for name, value in ticket_fields.items():
        if value is _UNSET:
            continue
        if name == "subject":
            value = validate_subject(value)
        elif name == "priority":
            value = validate_choice(value, Ticket.Priority, field_name="priority")
        elif name == "category":
            value = validate_length(value or "", limits.CATEGORY_MAX_LENGTH, field_name="category")
        elif name == "type":
            value = validate_length(value or "", limits.TYPE_MAX_LENGTH, field_name="type")
        elif name == "metadata":
            value = validate_metadata(value)
        elif name == "reply_address":
            value = validate_length(value or "", limits.REPLY_ADDRESS_MAX_LENGTH, field_name="reply_address")
        changes[name] = value
    return changes


def _apply_changes(
    ticket: Ticket,
    actor: Actor,
    *,
    fields: dict | None = None,
    tags=_UNSET,
    add_tags: Iterable = (),
    remove_tags: Iterable = (),
    assignee=_UNSET,
    status=_UNSET,
) -> dict:
    """Apply validated changes to a locked ticket, in the one order; returns what changed.

    The order: fields, tags, assignee, status. An assignment moves an open ticket to
    in progress unless the same call asks for another status (update_ticket has already
    dropped a status equal to the ticket's, which asks for nothing).
    """
    changed: dict[str, tuple] = {}
    fields = dict(fields or {})
    new_inbox = fields.pop("inbox", None)
    if new_inbox is not None and new_inbox.pk != ticket.inbox_id:
        # Moving takes a number in the new inbox (numbers are per inbox, consecutive): the
        # reference changes, the public id and the private link stay.
        before_inbox, before_reference = ticket.inbox, ticket.reference
        ticket.inbox = new_inbox
        ticket.number, prefix = take_ticket_number(new_inbox)
        ticket.reference = f"{prefix}-{ticket.number}"
        changed["inbox"] = (before_inbox.public_id, new_inbox.public_id)
        changed["reference"] = (before_reference, ticket.reference)
        for name, (before, after) in (("inbox", changed["inbox"]), ("reference", changed["reference"])):
            record_event(ticket, actor, TicketEvent.Action.UPDATED, field=name, before=before, after=after)
    for name, value in fields.items():
        before = getattr(ticket, name)
        if before != value:
            setattr(ticket, name, value)
            changed[name] = (before, value)
            if name == "custom_fields":
                # One row per field, in the words of the API: custom_fields.order_id.
                for key in sorted(set(before) | set(value)):
                    if before.get(key) != value.get(key):
                        record_event(
                            ticket,
                            actor,
                            TicketEvent.Action.UPDATED,
                            field=f"custom_fields.{key}",
                            before=before.get(key),
                            after=value.get(key),
                        )
            else:
                record_event(
                    ticket, actor, TicketEvent.Action.UPDATED, field=name, before=before, after=value
                )

    add_tags, remove_tags = list(add_tags), list(remove_tags)
    if tags is not _UNSET or add_tags or remove_tags:
        current = list(ticket.tags.all())
        wanted = (
            resolve_tags(ticket.organization, tags, field_name="tags", actor=actor)
            if tags is not _UNSET
            else current
        )
        if add_tags:
            wanted = wanted + resolve_tags(ticket.organization, add_tags, field_name="tags", actor=actor)
        if remove_tags:
            removed = {str(getattr(tag, "name", tag)).strip().lower() for tag in remove_tags}
            wanted = [tag for tag in wanted if tag.name.lower() not in removed]
        wanted = list({tag.pk: tag for tag in wanted}.values())
        if len(wanted) > limits.TAGS_PER_TICKET:
            raise InvalidInput("tags", f"At most {limits.TAGS_PER_TICKET} tags.")
        before_names = sorted(tag.name for tag in current)
        after_names = sorted(tag.name for tag in wanted)
        if before_names != after_names:
            ticket.tags.set(wanted)
            changed["tags"] = (before_names, after_names)
            record_event(
                ticket,
                actor,
                TicketEvent.Action.TAGS_CHANGED,
                field="tags",
                before=before_names,
                after=after_names,
            )

    if changed:  # Fields and tags share one UPDATE; assignee and status write their own.
        ticket.updated_at = timezone.now()
        columns = [name for name in changed if name != "tags"]
        if "inbox" in changed:
            columns.append("number")
        ticket.save(update_fields=[*columns, "updated_at"])
        if ("subject" in changed or "reference" in changed) and search.is_supported():
            Ticket.objects.filter(pk=ticket.pk).update(search_document=search.rebuilt_document())

    if assignee is not _UNSET and ticket.assignee_id != (assignee.pk if assignee else None):
        before = ticket.assignee_id
        ticket.assignee = assignee
        ticket.updated_at = timezone.now()
        ticket.save(update_fields=["assignee", "updated_at"])
        after = assignee.pk if assignee else None
        changed["assignee"] = (before, after)
        record_event(ticket, actor, TicketEvent.Action.ASSIGNED, field="assignee", before=before, after=after)
        events.publish(
            events.TicketAssigned(
                actor=actor,
                organization_id=ticket.organization_id,
                ticket_id=ticket.pk,
                before=before,
                after=after,
            )
        )
        if assignee is not None and status is _UNSET and ticket.status in AFTER_ASSIGNMENT:
            status = AFTER_ASSIGNMENT[ticket.status]

    if status is not _UNSET and status != ticket.status:
        before = ticket.status
        set_status_locked(ticket, status, actor)
        changed["status"] = (before, status)

    if changed:
        note_ticket_changed(ticket)
        publish_and_reload(
            ticket,
            events.TicketUpdated(
                actor=actor,
                organization_id=ticket.organization_id,
                ticket_id=ticket.pk,
                changes=changed,
                ticket=ticket,
            ),
        )
    return changed


@dataclass(frozen=True)
class TicketChanges:
    """What one call asks to change on a ticket, validated before any lock is taken."""

    fields: dict
    status: object = _UNSET
    assignee: object = _UNSET
    tags: object = _UNSET
    add_tags: tuple = ()
    remove_tags: tuple = ()
    # The fields named (None clears one), checked against the locked ticket's inbox; and
    # the inbox to move the ticket to.
    custom_fields: object = _UNSET
    inbox: object = _UNSET

    @property
    def names_assignee(self) -> bool:
        return self.assignee is not _UNSET

    @property
    def names_status(self) -> bool:
        return self.status is not _UNSET

    @property
    def is_empty(self) -> bool:
        return (
            not self.fields
            and self.status is _UNSET
            and self.assignee is _UNSET
            and self.tags is _UNSET
            and not self.add_tags
            and not self.remove_tags
            and self.custom_fields is _UNSET
            and self.inbox is _UNSET
        )


def prepare_changes(
    *,
    actor: Actor,
    status=_UNSET,
    assignee=_UNSET,
    subject=_UNSET,
    priority=_UNSET,
    category=_UNSET,
    type=_UNSET,  # noqa: A002
    metadata=_UNSET,
    reply_address=_UNSET,
    custom_fields=_UNSET,
    inbox=_UNSET,
    tags=_UNSET,
    add_tags: Iterable = (),
    remove_tags: Iterable = (),
) -> TicketChanges:
    """Validate the changes of one call (``update_ticket``'s keywords) without a lock."""
    fields = _validated_changes(
        {
            "subject": subject,
            "priority": priority,
            "category": category,
            "type": type,
            "metadata": metadata,
            "reply_address": reply_address,
        }
    )
    add_tags, remove_tags = tuple(add_tags), tuple(remove_tags)
    if actor.is_customer:
        if assignee is not _UNSET:
            raise PermissionDenied("Customers cannot assign tickets.")
        if (
            fields
            or tags is not _UNSET
            or add_tags
            or remove_tags
            or custom_fields is not _UNSET
            or inbox is not _UNSET
        ):
            raise PermissionDenied("Customers cannot edit tickets.")
    if status is not _UNSET:
        status = validate_choice(status, Ticket.Status, field_name="status")
    return TicketChanges(
        fields=fields,
        status=status,
        assignee=assignee,
        tags=tags,
        add_tags=add_tags,
        remove_tags=remove_tags,
        custom_fields=custom_fields,
        inbox=inbox,
    )


def check_changes_locked(ticket: Ticket, actor: Actor, changes: TicketChanges) -> TicketChanges:
    """Check prepared changes against a locked ticket; the changes left to apply."""
    if changes.is_empty:
        return changes
    if actor.is_customer and actor.customer.pk != ticket.customer_id:
        raise PermissionDenied("Only the ticket's customer may change it.")
    status = changes.status
    if status == ticket.status:
        # Asking for the status the ticket has asks for nothing, as a form's untouched
        # select does: the assignment rule applies the same from every face.
        status = _UNSET
    if status is not _UNSET:
        _check_transition(ticket, status, actor)
    fields = dict(changes.fields)
    if changes.custom_fields is not _UNSET:
        wanted = custom_field_rules.merged(
            ticket.custom_fields,
            custom_field_rules.validate_values(
                changes.custom_fields, organization_id=ticket.organization_id, inbox_id=ticket.inbox_id
            ),
        )
        if wanted != ticket.custom_fields:
            fields["custom_fields"] = wanted
    inbox = changes.inbox
    if inbox is not _UNSET and inbox.pk != ticket.inbox_id:
        if inbox.organization_id != ticket.organization_id:
            raise InvalidInput("inbox", "Not an inbox of this organization.")
        fields["inbox"] = inbox
    if status in custom_field_rules.RESOLVING_STATUSES and not actor.is_customer:
        custom_field_rules.check_required_to_resolve(
            ticket, fields.get("custom_fields", ticket.custom_fields)
        )
    assignee = changes.assignee
    if assignee is not None and assignee is not _UNSET:
        if not is_assignable(ticket.organization_id, assignee):
            raise InvalidInput("assignee", "Not an agent of this organization.")
    return replace(changes, status=status, fields=fields, custom_fields=_UNSET, inbox=_UNSET)


def apply_changes_locked(ticket: Ticket, actor: Actor, changes: TicketChanges) -> dict:
    """Apply checked changes to a locked ticket in the one order; returns what changed."""
    return _apply_changes(
        ticket,
        actor,
        fields=changes.fields,
        tags=changes.tags,
        add_tags=changes.add_tags,
        remove_tags=changes.remove_tags,
        assignee=changes.assignee,
        status=changes.status,
    )


def is_assignable(organization_id: int, user) -> bool:
    """An active member of the organization may be given its tickets."""
    return Membership.objects.filter(
        organization_id=organization_id, user=user, user__is_active=True
    ).exists()


def update_ticket(*, ticket: Ticket, actor: Actor, **changes) -> Ticket:
    """Change a ticket: any of its fields, its tags, its assignee and its status, together.

    Every face maps its request onto this one call (keywords: ``status``, ``assignee``,
    ``subject``, ``priority``, ``category``, ``type``, ``metadata``, ``reply_address``,
    ``custom_fields``, ``inbox``, ``tags``, ``add_tags``, ``remove_tags``). ``tags``
    replaces the set; ``add_tags``/``remove_tags`` change it under the ticket's lock, so
    concurrent adds are never lost. ``assignee=None`` unassigns. A customer may only change
    the status, within ``CUSTOMER_TRANSITIONS``; a move the map forbids is refused whole,
    changing nothing. ``inbox`` moves the ticket (it takes a number, so a reference, in that
    inbox). ``custom_fields`` changes the fields it names (None clears one); resolving or
    closing needs a value in each field of the inbox "required to resolve" (but for the
    customer closing their own ticket).
    """
    prepared = prepare_changes(actor=actor, **changes)
    with outbox.atomic():
        ticket = lock_ticket(ticket)
        apply_changes_locked(ticket, actor, check_changes_locked(ticket, actor, prepared))
        return ticket


def change_status(*, ticket: Ticket, status: str, actor: Actor) -> Ticket:
    """Move a ticket through its lifecycle: ``update_ticket`` with the status alone."""
    return update_ticket(ticket=ticket, actor=actor, status=status)


def assign(*, ticket: Ticket, assignee, actor: Actor) -> Ticket:
    """Give the ticket to an agent of its organization, or to nobody (``assignee=None``)."""
    return update_ticket(ticket=ticket, actor=actor, assignee=assignee)


def rotate_access_key(*, ticket: Ticket, actor: Actor) -> Ticket:
    """Give the ticket a new private link; the old one stops working at once."""
    if actor.is_customer:
        raise PermissionDenied("Customers cannot rotate the private link.")
    with transaction.atomic():
        ticket = lock_ticket(ticket)
        ticket.access_key = new_access_key()
        ticket.save(update_fields=["access_key"])
        record_event(ticket, actor, TicketEvent.Action.ACCESS_KEY_ROTATED)
        return ticket


def confirm_sender(*, ticket: Ticket, how: str) -> Ticket:
    """The ticket's sender proved the address they typed (followed the emailed link, or
    replied from it through their reply address): the ticket stops being "unverified
    sender", and one filed on a provisional record joins the address's customer."""
    if not ticket.sender_unverified:
        return ticket
    with transaction.atomic():
        ticket = lock_ticket(ticket)
        if not ticket.sender_unverified:
            return ticket
        provisional = ticket.customer
        changes = {"sender_unverified": (True, False)}
        if is_provisional(provisional):
            address = (ticket.reply_address or "").strip().lower()
            owner = Customer.objects.filter(organization_id=ticket.organization_id, email=address).first()
            if owner is None:
                # The customer the address belonged to is gone: the record becomes theirs.
                provisional.email, provisional.external_id = address, ""
                provisional.save(update_fields=["email", "external_id", "updated_at"])
            else:
                ticket.customer = owner
                Message.objects.filter(ticket=ticket, author_customer=provisional).update(
                    author_customer=owner
                )
                changes["customer"] = (provisional.public_id, owner.public_id)
        ticket.sender_unverified = False
        ticket.save(update_fields=["sender_unverified", "customer"])
        if is_provisional(provisional) and not provisional.tickets.exists():
            provisional.delete()
        record_event(
            ticket,
            Actor.system(f"Sender ({how})"),
            TicketEvent.Action.UPDATED,
            field="sender_unverified",
            before=True,
            after=False,
        )
        events.publish(
            events.TicketUpdated(
                actor=Actor.system("Sender"),
                organization_id=ticket.organization_id,
                ticket_id=ticket.pk,
                changes=changes,
            )
        )
    return ticket


def resolve_due_pending_tickets(*, ticket_ids: Iterable[int] | None = None, limit: int = 500) -> int:
    """Resolve the pending tickets whose inbox's auto-resolve time has come.

    Run by the worker (``tickets.tasks.resolve_pending_ticket``, deferred to each ticket's
    ``auto_resolve_at``) and by ``manage.py resolve_pending_tickets`` (cron, for task
    backends that cannot defer). Each ticket is resolved in its own transaction under its
    row lock, and only if it is still pending and due: a customer's reply in between wins.
    Returns how many were resolved.
    """
    due = Ticket.objects.filter(status=Status.PENDING, auto_resolve_at__lte=timezone.now())
    if ticket_ids is not None:
        due = due.filter(pk__in=list(ticket_ids))
    actor = Actor.system(AUTO_RESOLVE_ACTOR)
    resolved = 0
    for ticket_id in due.order_by("auto_resolve_at").values_list("pk", flat=True)[:limit]:
        with transaction.atomic():
            ticket = (
                Ticket.objects.select_for_update()
                .select_related("organization", "inbox", "customer")
                .filter(pk=ticket_id, status=Status.PENDING, auto_resolve_at__lte=timezone.now())
                .first()
            )
            if ticket is None:
                continue
            before = ticket.status
            set_status_locked(ticket, Status.RESOLVED, actor)
            events.publish(
                events.TicketUpdated(
                    actor=actor,
                    organization_id=ticket.organization_id,
                    ticket_id=ticket.pk,
                    changes={"status": (before, Status.RESOLVED)},
                )
            )
            resolved += 1
    return resolved
