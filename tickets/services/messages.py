"""Messages: public replies and internal notes on a ticket."""

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from tickets import events, search
from tickets.actors import Actor
from tickets.exceptions import IdempotencyConflict, InvalidTransition, PermissionDenied
from tickets.models import Message, Ticket, TicketEvent
from tickets.rendering import render_markdown

from . import idempotency
from .attachments import UploadedFile, store_attachments, validate_attachments
from .history import record_event
from .tickets import (
    AFTER_AGENT_REPLY,
    AFTER_CUSTOMER_REPLY,
    CUSTOMER_MAY_NOT_REPLY,
    lock_ticket,
    publish_and_reload,
    set_status_locked,
)
from .validation import validate_body, validate_choice


def _author_type(actor: Actor) -> str:
    if actor.is_customer:
        return Message.AuthorType.CUSTOMER
    if actor.user is not None:
        return Message.AuthorType.AGENT
    return Message.AuthorType.SYSTEM


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

    What a public reply does to the status is the transition table's
    (``AFTER_CUSTOMER_REPLY``, ``AFTER_AGENT_REPLY``); the first public reply from the
    organization's side is the ticket's first response.
    """
    body = validate_body(body, field_name="body")
    kind = validate_choice(kind, Message.Kind, field_name="kind")
    channel = validate_choice(channel, Ticket.Channel, field_name="channel")
    validate_attachments(attachments)
    idempotency_key = idempotency.validate_key(idempotency_key)
    if actor.is_customer and kind == Message.Kind.NOTE:
        raise PermissionDenied("Customers cannot add internal notes.")

    with transaction.atomic():
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
            channel=channel,
            body=body,
            body_html=render_markdown(body),
            email_message_id=email_message_id[:255],
            raw_email=raw_email,
            created_at=now,
        )
        store_attachments(message, attachments)
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
        if search.is_supported():
            columns["search_document"] = search.document_with(body)
        Ticket.objects.filter(pk=ticket.pk).update(**columns)
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

        if is_public:
            after_reply = AFTER_CUSTOMER_REPLY if actor.is_customer else AFTER_AGENT_REPLY
            if ticket.status in after_reply:
                before = ticket.status
                set_status_locked(ticket, after_reply[before], actor)
                # As update_ticket tells every status change: ticket.updated carries it too.
                events.publish(
                    events.TicketUpdated(
                        actor=actor,
                        organization_id=ticket.organization_id,
                        ticket_id=ticket.pk,
                        changes={"status": (before, ticket.status)},
                        ticket=ticket,
                    )
                )

        if claimed is not None:
            claimed.message = message
            claimed.save(update_fields=["message"])
    return message, True
