"""A customer's data, exported: one zip with ``customer.json`` and the attachment files.

``customer.json`` holds the customer record; each of their tickets with its metadata,
tags, participants, messages (notes included: the organization holds them about the
person), attachments and history; the messages they wrote on other customers' tickets as a
participant; the mail sent to their address; and their customer tokens (never a secret).
Each attachment's ``path`` names its file inside the zip (``attachments/<reference>/...``).
Files are read through Django's storage API, so the export works the same on local disk
and on an object store; the zip is built in a temporary file that spills to disk past a
few megabytes.
"""

import json
import shutil
import tempfile
import zipfile

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.text import get_valid_filename

from accounts.audit import record_audit_event
from accounts.models import AuditEvent, CustomerToken
from tickets.actors import Actor
from tickets.models import Attachment, Customer, Delivery, Message, Participant, Ticket, TicketEvent

from .data_rights import require_customer_data_manager

FORMAT_VERSION = 1
# Kept in memory below this size, spilled to a temporary file above it.
SPOOL_BYTES = 8 * 1024 * 1024


def _customer(customer: Customer) -> dict:
    return {
        "id": customer.public_id,
        "email": customer.email,
        "name": customer.name,
        "external_id": customer.external_id,
        "metadata": customer.metadata,
        "email_problem": customer.email_problem,
        "email_problem_at": customer.email_problem_at,
        "erased_at": customer.erased_at,
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    }


def _attachment(attachment: Attachment, folder: str, files: list) -> dict:
    path = f"attachments/{folder}/{attachment.public_id}-{get_valid_filename(attachment.filename) or 'file'}"
    files.append((path, attachment))
    return {
        "id": attachment.public_id,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "created_at": attachment.created_at,
        "path": path,
    }


def _message(message: Message, folder: str, files: list) -> dict:
    return {
        "id": message.public_id,
        "kind": message.kind,
        "author_type": message.author_type,
        "author": message.author_name,
        "channel": message.channel,
        "body": message.body,
        "body_html": message.body_html,
        "email_message_id": message.email_message_id,
        "raw_email": message.raw_email,
        "created_at": message.created_at,
        "attachments": [_attachment(attachment, folder, files) for attachment in message.attachments.all()],
    }


def _event(event: TicketEvent) -> dict:
    return {
        "action": event.action,
        "actor": event.actor_label,
        "field": event.field,
        "before": event.before,
        "after": event.after,
        "created_at": event.created_at,
    }


def _ticket(ticket: Ticket, files: list) -> dict:
    folder = get_valid_filename(ticket.reference) or ticket.public_id
    return {
        "id": ticket.public_id,
        "reference": ticket.reference,
        "inbox": ticket.inbox.name,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "category": ticket.category,
        "type": ticket.type,
        "channel": ticket.channel,
        "reply_address": ticket.reply_address,
        "metadata": ticket.metadata,
        "tags": [tag.name for tag in ticket.tags.all()],
        "participants": [participant.customer.email for participant in ticket.participants.all()],
        "assignee": ticket.assignee.display_name if ticket.assignee_id else None,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "first_response_at": ticket.first_response_at,
        "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at,
        "redacted_at": ticket.redacted_at,
        "messages": [_message(message, folder, files) for message in ticket.messages.all()],
        "events": [_event(event) for event in ticket.events.all()],
    }


def _delivery(delivery: Delivery) -> dict:
    return {
        "kind": delivery.kind,
        "ticket": delivery.ticket.reference if delivery.ticket_id else None,
        "recipient": delivery.recipient,
        "status": delivery.status,
        "subject": delivery.subject,
        "body_text": delivery.body_text,
        "created_at": delivery.created_at,
        "sent_at": delivery.sent_at,
    }


def _token(token: CustomerToken) -> dict:
    return {
        "prefix": token.display_prefix,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
        "last_used_at": token.last_used_at,
    }


def customer_document(customer: Customer) -> tuple[dict, list[tuple[str, Attachment]]]:
    """Everything the organization holds about the customer, and the files to add."""
    files: list[tuple[str, Attachment]] = []
    messages = Message.objects.select_related("author_user", "author_customer").prefetch_related(
        "attachments"
    )
    tickets = (
        Ticket.objects.filter(customer=customer)
        .select_related("inbox", "assignee")
        .prefetch_related(
            "tags",
            Prefetch("participants", queryset=Participant.objects.select_related("customer")),
            Prefetch("messages", queryset=messages),
            "events",
        )
        .order_by("created_at", "id")
    )
    elsewhere = (
        messages.filter(author_customer=customer)
        .exclude(ticket__customer=customer)
        .select_related("ticket")
        .order_by("created_at", "id")
    )
    deliveries = Delivery.objects.none()
    if customer.email:
        # Mail to their address about this organization: its tickets' mail, and its portal's
        # sign-in links (which carry no ticket, only the organization's portal address).
        deliveries = (
            Delivery.objects.filter(recipient__iexact=customer.email)
            .filter(
                Q(ticket__organization_id=customer.organization_id)
                | Q(
                    ticket__isnull=True,
                    kind=Delivery.Kind.PORTAL_LINK,
                    body_text__contains=f"/portal/{customer.organization.slug}/",
                )
            )
            .select_related("ticket")
            .order_by("created_at", "id")
        )
    document = {
        "format": "helpdesk.customer-export",
        "version": FORMAT_VERSION,
        "exported_at": timezone.now(),
        "organization": {"name": customer.organization.name, "slug": customer.organization.slug},
        "customer": _customer(customer),
        "tickets": [_ticket(ticket, files) for ticket in tickets],
        "messages_on_other_tickets": [
            {"ticket": message.ticket.reference, **_message(message, message.ticket.reference, files)}
            for message in elsewhere
        ],
        "participations": [
            {"ticket": participant.ticket.reference, "since": participant.created_at}
            for participant in Participant.objects.filter(customer=customer).select_related("ticket")
        ],
        "mail_sent_to_them": [_delivery(delivery) for delivery in deliveries],
        "customer_tokens": [_token(token) for token in CustomerToken.objects.filter(customer=customer)],
    }
    return document, files


def export_customer(*, customer: Customer, actor: Actor):
    """The zip of the customer's data, as an open temporary file at its start; recorded in
    the audit log (by public id: the log must not hold the person's details)."""
    require_customer_data_manager(actor, customer.organization_id)
    customer = Customer.objects.select_related("organization").get(pk=customer.pk)
    with transaction.atomic():
        # One consistent read of the rows, and the audit row with it.
        document, files = customer_document(customer)
        record_audit_event(
            organization=customer.organization,
            actor=actor,
            action=AuditEvent.Action.CUSTOMER_EXPORTED,
            target=f"customer {customer.public_id}",
            changes={"tickets": len(document["tickets"]), "files": len(files)},
        )
    archive = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - the response closes it
    missing = []
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for path, attachment in files:
            try:
                with attachment.file.storage.open(attachment.file.name, "rb") as source:
                    with zipped.open(path, "w") as target:
                        shutil.copyfileobj(source, target)
            except OSError:
                missing.append(path)
        document["missing_files"] = missing
        zipped.writestr("customer.json", json.dumps(document, cls=DjangoJSONEncoder, indent=2))
    archive.seek(0)
    return archive


def export_filename(customer: Customer) -> str:
    return f"customer-{customer.public_id}.zip"
