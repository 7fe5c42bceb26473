"""Every change to tickets and their customers goes through a function here.

Each runs in one transaction, takes row locks where a count or a sequence must be exact,
records a TicketEvent for what it changed, and schedules side effects (email, in-app
notifications) with ``transaction.on_commit`` so a rolled-back change sends nothing.
"""

import copy
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import AuditEvent, Membership, Organization
from accounts.services import record_audit_event, require_manager
from helpdesk.parsers import forbidden_character_problem

from . import limits, notifications, search
from .actors import Actor
from .exceptions import (
    DailyLimitReached,
    IdempotencyConflict,
    InvalidInput,
    InvalidTransition,
    PermissionDenied,
    QuotaReached,
)
from .models import (
    Attachment,
    Customer,
    IdempotencyKey,
    Inbox,
    Message,
    Notification,
    SavedReply,
    Tag,
    Ticket,
    TicketEvent,
    new_access_key,
)
from .rendering import render_markdown

Status = Ticket.Status

# Which status may follow which. Who may make each move is narrowed in change_status.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.OPEN: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
    Status.IN_PROGRESS: frozenset({Status.OPEN, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.OPEN, Status.IN_PROGRESS, Status.CLOSED}),
    Status.CLOSED: frozenset({Status.OPEN}),
}

# A customer may close their own ticket and reopen a resolved one; nothing else.
CUSTOMER_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.OPEN: frozenset({Status.CLOSED}),
    Status.IN_PROGRESS: frozenset({Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


@dataclass(frozen=True)
class CustomerData:
    """A customer as a caller names them: by email, by the integrator's id, or both."""

    email: str = ""
    external_id: str = ""
    name: str = ""
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class UploadedFile:
    """An attachment as received, before it is stored."""

    filename: str
    content_type: str
    content: bytes


# Validation -------------------------------------------------------------------------


def validate_subject(subject: str, *, field_name: str = "subject") -> str:
    subject = (subject or "").strip()
    if not limits.SUBJECT_MIN_LENGTH <= len(subject) <= limits.SUBJECT_MAX_LENGTH:
        raise InvalidInput(
            field_name,
            f"Must be between {limits.SUBJECT_MIN_LENGTH} and {limits.SUBJECT_MAX_LENGTH} characters.",
        )
    return subject


def validate_body(body: str, *, field_name: str = "message") -> str:
    body = (body or "").strip()
    if not limits.MESSAGE_MIN_LENGTH <= len(body) <= limits.MESSAGE_MAX_LENGTH:
        raise InvalidInput(
            field_name,
            f"Must be between {limits.MESSAGE_MIN_LENGTH} and {limits.MESSAGE_MAX_LENGTH} characters.",
        )
    return body


def _depth(value, level: int = 0) -> int:
    if isinstance(value, dict):
        return max((_depth(item, level + 1) for item in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(item, level + 1) for item in value), default=level + 1)
    return level


def validate_metadata(metadata, *, field_name: str = "metadata") -> dict:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise InvalidInput(field_name, "Must be a JSON object.")
    if len(metadata) > limits.METADATA_MAX_KEYS:
        raise InvalidInput(field_name, f"At most {limits.METADATA_MAX_KEYS} keys.")
    if any(len(key) > limits.METADATA_KEY_MAX_LENGTH for key in metadata):
        raise InvalidInput(field_name, f"Keys are at most {limits.METADATA_KEY_MAX_LENGTH} characters.")
    if _depth(metadata) > limits.METADATA_MAX_DEPTH:
        raise InvalidInput(field_name, f"Nested at most {limits.METADATA_MAX_DEPTH} levels deep.")
    if len(json.dumps(metadata).encode()) > limits.METADATA_MAX_BYTES:
        raise InvalidInput(field_name, f"At most {limits.METADATA_MAX_BYTES} bytes as JSON.")
    return metadata


def normalize_email(email: str, *, field_name: str = "email") -> str:
    email = (email or "").strip().lower()
    if not email:
        return ""
    try:
        validate_email(email)
    except DjangoValidationError as error:
        raise InvalidInput(field_name, "Invalid email format.") from error
    return email


def _choice(value: str, choices, *, field_name: str) -> str:
    if value not in choices.values:
        raise InvalidInput(field_name, f"Must be one of: {', '.join(choices.values)}.")
    return value


# Customers --------------------------------------------------------------------------


def _find_customer(organization: Organization, email: str, external_id: str) -> Customer | None:
    customers = Customer.objects.filter(organization=organization)
    if external_id:
        found = customers.filter(external_id=external_id).first()
        if found is not None:
            return found
    if email:
        return customers.filter(email=email).first()
    return None


def _merge_into_customer(customer: Customer, data: CustomerData, email: str) -> Customer:
    changed = []
    if data.external_id and customer.external_id != data.external_id:
        if customer.external_id:
            raise InvalidInput("customer.email", "This email belongs to a customer with another external id.")
        customer.external_id = data.external_id
        changed.append("external_id")
    if email and customer.email != email:
        if Customer.objects.filter(organization_id=customer.organization_id, email=email).exists():
            raise InvalidInput("customer.email", "Another customer already has this email.")
        customer.email = email
        changed.append("email")
    if data.name and customer.name != data.name:
        customer.name = data.name
        changed.append("name")
    if data.metadata:
        merged = {**customer.metadata, **data.metadata}
        if merged != customer.metadata:
            customer.metadata = validate_metadata(merged, field_name="customer.metadata")
            changed.append("metadata")
    if changed:
        customer.save(update_fields=[*changed, "updated_at"])
    return customer


def upsert_customer(*, organization: Organization, data: CustomerData) -> tuple[Customer, bool]:
    """Find the customer by external id, then email, and merge ``data`` in; or create them.

    Concurrent calls for the same new person converge on one row: the loser of the insert
    race finds the winner's row and merges into it.
    """
    email = normalize_email(data.email, field_name="customer.email")
    external_id = (data.external_id or "").strip()
    if not email and not external_id:
        raise InvalidInput("customer", "An email or an external id is required.")
    if len(external_id) > limits.EXTERNAL_ID_MAX_LENGTH:
        raise InvalidInput("customer.external_id", "Too long.")
    if len(data.name or "") > limits.NAME_MAX_LENGTH:
        raise InvalidInput("customer.name", "Too long.")
    metadata = validate_metadata(data.metadata, field_name="customer.metadata")

    # No savepoint of its own: inside create_ticket's transaction it would cost two round
    # trips per request; the insert below keeps the savepoint its race handling needs.
    with transaction.atomic(savepoint=False):
        existing = _find_customer(organization, email, external_id)
        if existing is not None:
            return _merge_into_customer(existing, data, email), False
        try:
            with transaction.atomic():
                customer = Customer.objects.create(
                    organization=organization,
                    email=email,
                    external_id=external_id,
                    name=data.name or "",
                    metadata=metadata,
                )
            return customer, True
        except IntegrityError:
            existing = _find_customer(organization, email, external_id)
            if existing is None:
                raise
            return _merge_into_customer(existing, data, email), False


def update_customer(*, customer: Customer, name=None, email=None, metadata=None) -> Customer:
    """Change a customer's details; metadata given here replaces the stored object."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        before = copy.copy(customer)
        if name is not None:
            if len(name) > limits.NAME_MAX_LENGTH:
                raise InvalidInput("name", "Too long.")
            customer.name = name
        if email is not None:
            normalized = normalize_email(email)
            if not normalized and not customer.external_id:
                raise InvalidInput("email", "A customer without an external id needs an email.")
            clash = Customer.objects.filter(organization_id=customer.organization_id, email=normalized)
            if normalized and clash.exclude(pk=customer.pk).exists():
                raise InvalidInput("email", "Another customer already has this email.")
            customer.email = normalized
        if metadata is not None:
            customer.metadata = validate_metadata(metadata)
        if (customer.name, customer.email, customer.metadata) != (before.name, before.email, before.metadata):
            customer.save()
        return customer


# Tags --------------------------------------------------------------------------------


def validate_tag_name(name: str, *, field_name: str = "name") -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= limits.TAG_NAME_MAX_LENGTH:
        raise InvalidInput(field_name, f"Must be 1 to {limits.TAG_NAME_MAX_LENGTH} characters.")
    problem = forbidden_character_problem(name)
    if problem:
        raise InvalidInput(field_name, problem)
    return name


def get_or_create_tag(*, organization: Organization, name: str) -> tuple[Tag, bool]:
    name = validate_tag_name(name)
    try:
        with transaction.atomic():
            return Tag.objects.get_or_create(organization=organization, name=name)
    except IntegrityError:
        return Tag.objects.get(organization=organization, name=name), False


def rename_tag(*, tag: Tag, name: str) -> Tag:
    name = validate_tag_name(name)
    if Tag.objects.filter(organization_id=tag.organization_id, name=name).exclude(pk=tag.pk).exists():
        raise InvalidInput("name", "A tag with this name exists.")
    tag.name = name
    tag.save(update_fields=["name"])
    return tag


def delete_tag(*, tag: Tag) -> None:
    tag.delete()


def _resolve_tags(organization: Organization, tags: Iterable, *, field_name: str) -> list[Tag]:
    """Tags given as Tag objects or names (created on first use)."""
    resolved = []
    for tag in tags:
        if isinstance(tag, Tag):
            if tag.organization_id != organization.pk:
                raise InvalidInput(field_name, "Unknown tag.")
            resolved.append(tag)
        else:
            resolved.append(get_or_create_tag(organization=organization, name=str(tag))[0])
    if len(resolved) > limits.TAGS_PER_TICKET:
        raise InvalidInput(field_name, f"At most {limits.TAGS_PER_TICKET} tags.")
    return list({tag.pk: tag for tag in resolved}.values())


# Events and side effects -------------------------------------------------------------


def _record(ticket: Ticket, actor: Actor, action: str, *, field="", before=None, after=None):
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


def _after_commit(function, *args) -> None:
    transaction.on_commit(partial(function, *args))


def _store_attachments(message: Message, attachments: Sequence[UploadedFile]) -> None:
    from django.core.files.base import ContentFile

    for upload in attachments:
        attachment = Attachment(
            message=message,
            filename=upload.filename[:255],
            content_type=upload.content_type[:100],
            size=len(upload.content),
        )
        attachment.file.save(upload.filename, ContentFile(upload.content), save=False)
        attachment.save()


# Tickets -----------------------------------------------------------------------------


def _start_of_today() -> datetime:
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def seconds_until_next_month() -> int:
    start = _start_of_today().replace(day=1)
    next_month = (start + timedelta(days=32)).replace(day=1)
    return max(int((next_month - timezone.now()).total_seconds()), 1)


def _fingerprint(**values) -> str:
    canonical = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _claim_idempotency_key(organization: Organization, key: str, fingerprint: str):
    """The row for a new key, or the earlier row when this key was used before.

    A concurrent retry blocks on the unique index until the first request commits, then
    finds its row: the create happens once.
    """
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(
                organization=organization, key=key, fingerprint=fingerprint
            ), False
    except IntegrityError:
        earlier = IdempotencyKey.objects.select_related("ticket", "message").get(
            organization=organization, key=key
        )
        if earlier.fingerprint != fingerprint:
            raise IdempotencyConflict(
                "This Idempotency-Key was already used with a different request."
            ) from None
        return earlier, True


def pick_auto_assignee(organization: Organization):
    """The available N1 agent with the fewest open tickets (then the longest-standing)."""
    membership = (
        Membership.objects.filter(
            organization=organization,
            tier=Membership.Tier.N1,
            is_available=True,
            user__is_active=True,
        )
        .annotate(
            open_tickets=Count(
                "user__assigned_tickets",
                filter=Q(
                    user__assigned_tickets__organization=organization,
                    user__assigned_tickets__status__in=[Status.OPEN, Status.IN_PROGRESS],
                ),
            )
        )
        .order_by("open_tickets", "created_at", "pk")
        .select_related("user")
        .first()
    )
    return membership.user if membership else None


def _take_ticket_number(inbox: Inbox) -> tuple[int, str]:
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
    metadata: dict | None = None,
    tags: Iterable = (),
    reply_address: str = "",
    attachments: Sequence[UploadedFile] = (),
    idempotency_key: str = "",
    auto_assign: bool | None = None,
    email_message_id: str = "",
    raw_email: str = "",
) -> tuple[Ticket, bool]:
    """Open a ticket for a customer (found or created) with its first message.

    Returns ``(ticket, created)``; ``created`` is False when ``idempotency_key`` was seen
    before with the same request, and the earlier ticket is returned. ``auto_assign``
    None follows the inbox's setting.
    """
    organization = inbox.organization
    subject = validate_subject(subject)
    message = validate_body(message)
    metadata = validate_metadata(metadata)
    priority = _choice(priority, Ticket.Priority, field_name="priority")
    channel = _choice(channel, Ticket.Channel, field_name="channel")
    if len(category) > limits.CATEGORY_MAX_LENGTH:
        raise InvalidInput("category", f"At most {limits.CATEGORY_MAX_LENGTH} characters.")
    if len(type) > limits.TYPE_MAX_LENGTH:
        raise InvalidInput("type", f"At most {limits.TYPE_MAX_LENGTH} characters.")
    if len(reply_address) > limits.REPLY_ADDRESS_MAX_LENGTH:
        raise InvalidInput("reply_address", "Too long.")
    tags = list(tags)

    with transaction.atomic():
        claimed = None
        if idempotency_key:
            claimed, seen_before = _claim_idempotency_key(
                organization,
                idempotency_key,
                _fingerprint(
                    action="create_ticket",
                    inbox=inbox.pk,
                    customer=customer.pk if isinstance(customer, Customer) else asdict(customer),
                    subject=subject,
                    message=message,
                    priority=priority,
                    category=category,
                    type=type,
                    metadata=metadata,
                    tags=[str(getattr(tag, "pk", tag)) for tag in tags],
                    reply_address=reply_address,
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
            customer, customer_is_new = upsert_customer(organization=organization, data=customer)
        if not customer_is_new:
            # Serialize this customer's creates so the daily count below is exact.  A customer
            # inserted by this transaction is invisible to every other one and has no tickets
            # yet: no lock and no count needed (two round trips saved on a first contact).
            customer = Customer.objects.select_for_update().get(pk=customer.pk)

        if inbox.daily_limit_per_customer is not None:
            start = _start_of_today()
            today = Ticket.objects.filter(inbox=inbox, customer=customer, created_at__gte=start)
            if (0 if customer_is_new else today.count()) >= inbox.daily_limit_per_customer:
                retry_after = int((start + timedelta(days=1) - timezone.now()).total_seconds())
                raise DailyLimitReached(
                    f"This customer has reached the limit of {inbox.daily_limit_per_customer} "
                    "new tickets per day in this inbox.",
                    retry_after_seconds=max(retry_after, 1),
                )

        if organization.monthly_ticket_quota is not None:
            Organization.objects.select_for_update().filter(pk=organization.pk).first()
            month_start = _start_of_today().replace(day=1)
            used = Ticket.objects.filter(organization=organization, created_at__gte=month_start)
            if used.count() >= organization.monthly_ticket_quota:
                raise QuotaReached("The monthly ticket quota of this organization's plan is used up.")

        number, prefix = _take_ticket_number(inbox)

        now = timezone.now()
        reference = f"{prefix}-{number}"
        ticket = Ticket.objects.create(
            organization=organization,
            inbox=inbox,
            number=number,
            reference=reference,
            subject=subject,
            priority=priority,
            category=category,
            type=type,
            channel=channel,
            customer=customer,
            reply_address=reply_address or customer.email,
            metadata=metadata,
            created_at=now,
            updated_at=now,
            search_document=(
                search.new_document(reference=reference, subject=subject, body=message)
                if search.is_supported()
                else None
            ),
        )
        if tags:
            ticket.tags.set(_resolve_tags(organization, tags, field_name="tags"))
        first_message = Message.objects.create(
            ticket=ticket,
            kind=Message.Kind.REPLY,
            author_type=Message.AuthorType.CUSTOMER,
            author_customer=customer,
            channel=channel,
            body=message,
            body_html=render_markdown(message),
            email_message_id=email_message_id[:255],
            raw_email=raw_email,
            created_at=now,
        )
        _store_attachments(first_message, attachments)
        _record(ticket, actor, TicketEvent.Action.CREATED, after={"status": ticket.status})

        should_assign = (
            inbox.auto_assignment == Inbox.AutoAssignment.LEAST_LOADED_N1
            if auto_assign is None
            else auto_assign
        )
        if should_assign:
            assignee = pick_auto_assignee(organization)
            if assignee is not None:
                _assign_locked(ticket, assignee, Actor.system("Auto-assignment"))

        if claimed is not None:
            claimed.ticket = ticket
            claimed.save(update_fields=["ticket"])

        _after_commit(notifications.ticket_created, ticket.pk)
    return ticket, True


def _lock(ticket: Ticket) -> Ticket:
    return (
        Ticket.objects.select_for_update()
        .select_related("organization", "inbox", "customer")
        .get(pk=ticket.pk)
    )


def _set_status_locked(ticket: Ticket, new_status: str, actor: Actor) -> None:
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
    ticket.save(update_fields=["status", "updated_at", "resolved_at", "closed_at"])
    _record(
        ticket,
        actor,
        TicketEvent.Action.STATUS_CHANGED,
        field="status",
        before=old_status,
        after=new_status,
    )
    _after_commit(notifications.status_changed, ticket.pk, old_status, new_status)


def change_status(*, ticket: Ticket, status: str, actor: Actor) -> Ticket:
    """Move a ticket through its lifecycle; a move the map or the actor forbids is refused."""
    status = _choice(status, Ticket.Status, field_name="status")
    with transaction.atomic():
        ticket = _lock(ticket)
        if status == ticket.status:
            return ticket
        if actor.is_customer:
            if actor.customer.pk != ticket.customer_id:
                raise PermissionDenied("Only the ticket's customer may change it.")
            allowed = CUSTOMER_TRANSITIONS[ticket.status]
        else:
            allowed = ALLOWED_TRANSITIONS[ticket.status]
        if status not in allowed:
            raise InvalidTransition(
                f"A {ticket.get_status_display().lower()} ticket cannot become "
                f"{Ticket.Status(status).label.lower()}" + (" by its customer." if actor.is_customer else ".")
            )
        _set_status_locked(ticket, status, actor)
        return ticket


def _assign_locked(ticket: Ticket, assignee, actor: Actor) -> None:
    before = ticket.assignee_id
    ticket.assignee = assignee
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=["assignee", "updated_at"])
    _record(
        ticket,
        actor,
        TicketEvent.Action.ASSIGNED,
        field="assignee",
        before=before,
        after=assignee.pk if assignee else None,
    )
    if assignee is not None:
        Notification.objects.create(
            user=assignee,
            ticket=ticket,
            text=f"{ticket.reference} was assigned to you: {ticket.subject}"[:300],
        )
        _after_commit(notifications.ticket_assigned, ticket.pk)
        # Someone is working on it now.
        if ticket.status == Status.OPEN:
            _set_status_locked(ticket, Status.IN_PROGRESS, actor)


def assign(*, ticket: Ticket, assignee, actor: Actor) -> Ticket:
    """Give the ticket to an agent of its organization, or to nobody (``assignee=None``)."""
    if actor.is_customer:
        raise PermissionDenied("Customers cannot assign tickets.")
    with transaction.atomic():
        ticket = _lock(ticket)
        if assignee is not None:
            is_member = Membership.objects.filter(
                organization_id=ticket.organization_id, user=assignee, user__is_active=True
            ).exists()
            if not is_member:
                raise InvalidInput("assignee", "Not an agent of this organization.")
        if ticket.assignee_id == (assignee.pk if assignee else None):
            return ticket
        _assign_locked(ticket, assignee, actor)
        return ticket


_UNSET = object()


def update_ticket(
    *,
    ticket: Ticket,
    actor: Actor,
    subject=_UNSET,
    priority=_UNSET,
    category=_UNSET,
    type=_UNSET,  # noqa: A002
    metadata=_UNSET,
    reply_address=_UNSET,
    tags=_UNSET,
) -> Ticket:
    """Change a ticket's fields; each changed field is one event."""
    if actor.is_customer:
        raise PermissionDenied("Customers cannot edit tickets.")
    changes = {}
    if subject is not _UNSET:
        changes["subject"] = validate_subject(subject)
    if priority is not _UNSET:
        changes["priority"] = _choice(priority, Ticket.Priority, field_name="priority")
    if category is not _UNSET:
        if len(category) > limits.CATEGORY_MAX_LENGTH:
            raise InvalidInput("category", "Too long.")
        changes["category"] = category
    if type is not _UNSET:
        if len(type) > limits.TYPE_MAX_LENGTH:
            raise InvalidInput("type", "Too long.")
        changes["type"] = type
    if metadata is not _UNSET:
        changes["metadata"] = validate_metadata(metadata)
    if reply_address is not _UNSET:
        if len(reply_address) > limits.REPLY_ADDRESS_MAX_LENGTH:
            raise InvalidInput("reply_address", "Too long.")
        changes["reply_address"] = reply_address

    with transaction.atomic():
        ticket = _lock(ticket)
        changed_fields = []
        for name, value in changes.items():
            before = getattr(ticket, name)
            if before == value:
                continue
            setattr(ticket, name, value)
            changed_fields.append(name)
            _record(ticket, actor, TicketEvent.Action.UPDATED, field=name, before=before, after=value)
        if tags is not _UNSET:
            new_tags = _resolve_tags(ticket.organization, tags, field_name="tags")
            before_names = sorted(tag.name for tag in ticket.tags.all())
            after_names = sorted(tag.name for tag in new_tags)
            if before_names != after_names:
                ticket.tags.set(new_tags)
                changed_fields.append("tags")
                _record(
                    ticket,
                    actor,
                    TicketEvent.Action.TAGS_CHANGED,
                    field="tags",
                    before=before_names,
                    after=after_names,
                )
        if changed_fields:
            ticket.updated_at = timezone.now()
            ticket.save(update_fields=[name for name in changed_fields if name != "tags"] + ["updated_at"])
            if "subject" in changed_fields and search.is_supported():
                Ticket.objects.filter(pk=ticket.pk).update(search_document=search.rebuilt_document())
        return ticket


def add_message(
    *,
    ticket: Ticket,
    body: str,
    actor: Actor,
    kind: str = Message.Kind.REPLY,
    channel: str = Ticket.Channel.API,
    attachments: Sequence[UploadedFile] = (),
    email_message_id: str = "",
    raw_email: str = "",
    idempotency_key: str = "",
) -> tuple[Message, bool]:
    """Add a public reply or an internal note; returns ``(message, created)``.

    A customer's reply reopens a resolved ticket and is refused on a closed one; the
    first public reply from the organization's side is the ticket's first response.
    """
    body = validate_body(body, field_name="body")
    kind = _choice(kind, Message.Kind, field_name="kind")
    channel = _choice(channel, Ticket.Channel, field_name="channel")
    if actor.is_customer and kind == Message.Kind.NOTE:
        raise PermissionDenied("Customers cannot add internal notes.")

    with transaction.atomic():
        ticket = _lock(ticket)
        claimed = None
        if idempotency_key:
            claimed, seen_before = _claim_idempotency_key(
                ticket.organization,
                idempotency_key,
                _fingerprint(action="add_message", ticket=ticket.pk, body=body, kind=kind),
            )
            if seen_before:
                if claimed.message is None:
                    raise IdempotencyConflict("This Idempotency-Key was used for another action.")
                return claimed.message, False

        if actor.is_customer:
            if actor.customer.pk != ticket.customer_id:
                raise PermissionDenied("Only the ticket's customer may reply.")
            if ticket.status == Status.CLOSED:
                raise InvalidTransition("This ticket is closed; open a new ticket instead.")

        now = timezone.now()
        message = Message.objects.create(
            ticket=ticket,
            kind=kind,
            author_type=(
                Message.AuthorType.CUSTOMER
                if actor.is_customer
                else Message.AuthorType.AGENT
                if actor.user is not None
                else Message.AuthorType.SYSTEM
            ),
            author_user=actor.user,
            author_customer=actor.customer,
            channel=channel,
            body=body,
            body_html=render_markdown(body),
            email_message_id=email_message_id[:255],
            raw_email=raw_email,
            created_at=now,
        )
        _store_attachments(message, attachments)
        _record(
            ticket,
            actor,
            TicketEvent.Action.NOTE_ADDED if kind == Message.Kind.NOTE else TicketEvent.Action.REPLIED,
            after={"message": message.public_id},
        )

        ticket.updated_at = now
        changes = {"updated_at": now}
        if kind == Message.Kind.REPLY and not actor.is_customer and ticket.first_response_at is None:
            ticket.first_response_at = changes["first_response_at"] = now
        if search.is_supported():
            changes["search_document"] = search.document_with(body)
        Ticket.objects.filter(pk=ticket.pk).update(**changes)

        if kind == Message.Kind.REPLY:
            if actor.is_customer and ticket.status == Status.RESOLVED:
                _set_status_locked(ticket, Status.OPEN, actor)
            elif not actor.is_customer and ticket.status == Status.OPEN:
                _set_status_locked(ticket, Status.IN_PROGRESS, actor)

        if claimed is not None:
            claimed.message = message
            claimed.save(update_fields=["message"])
        _after_commit(notifications.message_added, message.pk)
    return message, True


def rotate_access_key(*, ticket: Ticket, actor: Actor) -> Ticket:
    """Give the ticket a new private link; the old one stops working at once."""
    if actor.is_customer:
        raise PermissionDenied("Customers cannot rotate the private link.")
    with transaction.atomic():
        ticket = _lock(ticket)
        ticket.access_key = new_access_key()
        ticket.save(update_fields=["access_key"])
        _record(ticket, actor, TicketEvent.Action.ACCESS_KEY_ROTATED)
        return ticket


def mark_notifications_read(*, user, notification_ids: Iterable[int] | None = None) -> int:
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    return unread.update(read_at=timezone.now())


# Saved replies -------------------------------------------------------------------------


def _clean_saved_reply(title: str, body: str) -> tuple[str, str]:
    title = (title or "").strip()
    if not title or len(title) > 100:
        raise InvalidInput("title", "Must be between 1 and 100 characters.")
    return title, validate_body(body, field_name="body")


def create_saved_reply(*, organization: Organization, actor: Actor, title: str, body: str) -> SavedReply:
    """A canned answer for the organization's agents; ``{{ customer_name }}`` is filled in."""
    title, body = _clean_saved_reply(title, body)
    with transaction.atomic():
        require_manager(organization, actor)
        reply = SavedReply.objects.create(organization=organization, title=title, body=body)
        record_audit_event(
            organization=organization, actor=actor, action=AuditEvent.Action.SAVED_REPLY_CREATED, target=title
        )
    return reply


def update_saved_reply(*, saved_reply: SavedReply, actor: Actor, title: str, body: str) -> SavedReply:
    title, body = _clean_saved_reply(title, body)
    with transaction.atomic():
        require_manager(saved_reply.organization, actor)
        saved_reply = SavedReply.objects.select_for_update().get(pk=saved_reply.pk)
        wanted = {"title": title, "body": body}
        changed = [name for name, value in wanted.items() if getattr(saved_reply, name) != value]
        if changed:
            saved_reply.title, saved_reply.body = title, body
            saved_reply.save(update_fields=changed)
            record_audit_event(
                organization=saved_reply.organization,
                actor=actor,
                action=AuditEvent.Action.SAVED_REPLY_UPDATED,
                target=title,
                changes={"fields": changed},
            )
    return saved_reply


def delete_saved_reply(*, saved_reply: SavedReply, actor: Actor) -> None:
    with transaction.atomic():
        require_manager(saved_reply.organization, actor)
        record_audit_event(
            organization=saved_reply.organization,
            actor=actor,
            action=AuditEvent.Action.SAVED_REPLY_DELETED,
            target=saved_reply.title,
        )
        saved_reply.delete()
