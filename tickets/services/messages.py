"""Messages: public replies and internal notes on a ticket."""

from collections.abc import Sequence
from dataclasses import replace

from django.utils import timezone

from tickets import events, outbox, search
from tickets.actors import Actor
from tickets.exceptions import (
    IdempotencyConflict,
    InvalidTransition,
    MergeConflict,
    NewMessagesSinceSeen,
    PermissionDenied,
)
from tickets.models import Message, Ticket, TicketEvent
from tickets.rendering import render_markdown

from . import idempotency
from .attachments import UploadedFile, store_attachments, validate_attachments
from .drafts import discard_draft
from .history import record_event
from .tickets import (
    AFTER_AGENT_REPLY,
    AFTER_CUSTOMER_REPLY,
    CUSTOMER_MAY_NOT_REPLY,
    apply_changes_locked,
    check_changes_locked,
    is_assignable,
    lock_ticket,
    note_ticket_changed,
    prepare_changes,
    publish_and_reload,
)
from .validation import validate_body, validate_choice


def _author_type(actor: Actor) -> str:
    if actor.is_customer:
        return Message.AuthorType.CUSTOMER
    if actor.user is not None:
        return Message.AuthorType.AGENT
    return Message.AuthorType.SYSTEM


def _note_author_label(actor: Actor) -> str:
    """The name an internal note shows when no agent wrote it (a trigger, an API key)."""
    return actor.label[:200] if actor.user is None and not actor.is_customer else ""


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
    changes: dict | None = None,
    seen_message: str | None = None,
) -> tuple[Message, bool]:
    """Add a public reply or an internal note; returns ``(message, created)``.

    What a public reply does to the status is the transition table's
    (``AFTER_CUSTOMER_REPLY``, ``AFTER_AGENT_REPLY``); the first public reply from the
    organization's side is the ticket's first response. ``changes`` (``update_ticket``'s
    keywords: status, assignee, priority, tags...) are applied with the message, under the
    same lock and in the same transaction: "send and set pending", or the sidebar's
    unsaved changes sent with the reply. A refused change refuses the message too. A
    status named there replaces the one the reply would have moved to.

    ``seen_message`` (the public id of the newest message the sender's page showed) guards
    against collisions: a message someone else wrote after it refuses the send with
    ``NewMessagesSinceSeen``, which carries those messages to show. ``None`` skips it.
    """
    body = validate_body(body, field_name="body")
    kind = validate_choice(kind, Message.Kind, field_name="kind")
    channel = validate_choice(channel, Ticket.Channel, field_name="channel")
    validate_attachments(attachments)
    idempotency_key = idempotency.validate_key(idempotency_key)
    if actor.is_customer and kind == Message.Kind.NOTE:
        raise PermissionDenied("Customers cannot add internal notes.")
    prepared = prepare_changes(actor=actor, **(changes or {}))

    with outbox.atomic():
        ticket = lock_ticket(ticket)
        claimed = None
        if idempotency_key:
            claimed, seen_before = idempotency.claim(
                ticket.organization,
                actor,
                idempotency_key,
                idempotency.fingerprint(action="add_message", ticket=ticket.pk, body=body, kind=kind),
            )
            if seen_before:
                if claimed.message is None:
                    raise IdempotencyConflict("This Idempotency-Key was used for another action.")
                return claimed.message, False
        if ticket.merged_into_id is not None:
            raise MergeConflict("This ticket was merged into another; write on that ticket instead.")
        if seen_message is not None:
            _refuse_unseen_messages(ticket, actor, seen_message)
        prepared = check_changes_locked(ticket, actor, prepared)
        if (
            kind == Message.Kind.REPLY
            and actor.user is not None
            and not actor.is_customer
            and ticket.assignee_id is None
            and not prepared.names_assignee
            and ticket.inbox.assign_on_reply
            and is_assignable(ticket.organization_id, actor.user)
        ):
            # Whoever answers an unassigned ticket is handling it (the inbox's setting).
            prepared = replace(prepared, assignee=actor.user)

        if actor.is_customer:
            is_participant = ticket.participants.filter(customer_id=actor.customer.pk).exists
            if actor.customer.pk != ticket.customer_id and not is_participant():
                raise PermissionDenied("Only the ticket's customer or its participants may reply.")
            if ticket.status in CUSTOMER_MAY_NOT_REPLY:
                raise InvalidTransition("This ticket is closed; open a new ticket instead.")

        now = timezone.now()
        message = Message.objects.create(
            ticket=ticket,
            kind=kind,
            author_type=_author_type(actor),
            author_user=actor.user,
            author_customer=actor.customer,
            author_label=_note_author_label(actor) if kind == Message.Kind.NOTE else "",
            channel=channel,
            body=body,
            body_html=render_markdown(body),
            email_message_id=email_message_id[:255],
            raw_email=raw_email,
            created_at=now,
        )
        store_attachments(message, attachments)
        # Sent: the composer's draft for this ticket is done with.
        discard_draft(ticket=ticket, actor=actor)
        is_public = kind == Message.Kind.REPLY
        record_event(
            ticket,
            actor,
            TicketEvent.Action.REPLIED if is_public else TicketEvent.Action.NOTE_ADDED,
            after={"message": message.public_id},
        )

        ticket.updated_at = now
        columns = {"updated_at": now}
        if is_public and not actor.is_customer and ticket.first_response_at is None:
            ticket.first_response_at = columns["first_response_at"] = now
        # Who spoke last (the queue's order): a customer's message starts their wait unless
        # one already runs; our public reply ends it. Internal notes say nothing to them.
        if is_public and actor.is_customer:
            ticket.last_customer_message_at = columns["last_customer_message_at"] = now
            ticket.customer_waiting_since = columns["customer_waiting_since"] = (
                ticket.customer_waiting_since or now
            )
        elif is_public:
            ticket.last_agent_reply_at = columns["last_agent_reply_at"] = now
            ticket.customer_waiting_since = columns["customer_waiting_since"] = None
        if search.is_supported():
            columns["search_document"] = search.document_with(body)
        Ticket.objects.filter(pk=ticket.pk).update(**columns)
        # A trigger's note changes the ticket it acts on: its caller reads it back.
        note_ticket_changed(ticket)
        # A trigger may act on the reply in this transaction: the rule below reads the
        # ticket as it left it.
        publish_and_reload(
            ticket,
            events.MessageCreated(
                actor=actor,
                organization_id=ticket.organization_id,
                ticket_id=ticket.pk,
                message_id=message.pk,
                is_public=is_public,
                ticket=ticket,
            ),
        )

        if is_public and not prepared.names_status:
            # What a reply does to the status, unless the same call names one: applied with
            # the call's other changes, so they are told as one ticket.updated.
            after_reply = AFTER_CUSTOMER_REPLY if actor.is_customer else AFTER_AGENT_REPLY
            if ticket.status in after_reply:
                prepared = replace(prepared, status=after_reply[ticket.status])
        if not prepared.is_empty:
            apply_changes_locked(ticket, actor, prepared)

        if claimed is not None:
            claimed.message = message
            claimed.save(update_fields=["message"])
    return message, True


# At most this many unseen messages are carried to the sender; the thread has the rest.
UNSEEN_SHOWN = 5


def _refuse_unseen_messages(ticket: Ticket, actor: Actor, seen_message: str) -> None:
    """Under the ticket's lock: refuse when someone else wrote after ``seen_message``."""
    seen = ticket.messages.filter(public_id=seen_message[:40]).values_list("pk", flat=True).first()
    newer = ticket.messages.filter(pk__gt=seen or 0)
    if actor.user is not None:
        newer = newer.exclude(author_user=actor.user)
    unseen = list(newer.select_related("author_user", "author_customer").order_by("-pk")[:UNSEEN_SHOWN])
    if unseen:
        raise NewMessagesSinceSeen(unseen[::-1])
