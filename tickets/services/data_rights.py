"""Customers' data rights: erasure, and the organization's retention rule.

What is personal, and what erasing it means (docs/security.md, "Customers' data rights"):

- the customer record: name, email, external id, metadata and the mail problems reported
  for the address are cleared; the row stays (``erased_at`` set, the external id becomes
  ``erased:<public id>``) so their tickets keep counting in reports;
- every ticket of the customer is *redacted*: subject, metadata and reply address, every
  message body on it (the customer's own and the agents', which quote them), the rendered
  bodies, the raw inbound emails and their Message-IDs, every attachment (rows and files),
  the contents and the customer's address on its outbound mail records, the agents' bell
  texts, and what its history rows said about the subject, metadata, reply address and
  participants. Its status, priority, inbox, tags, assignee and timestamps stay;
- what the customer wrote on other customers' tickets (as a participant) is redacted the
  same way, message by message, and they stop being a participant anywhere;
- what names them elsewhere: history rows they acted in ("Erased customer"), mail sent to
  their address, the audit log's customer-token rows;
- every way in stops working: the private links of their tickets are rotated, their
  customer tokens revoked, and a portal session or sign-in link no longer finds them.

The retention rule (``Organization.retention_days`` / ``retention_action``) applies the same
redaction, or deletes the tickets, to closed tickets older than the rule; the worker runs
it (``manage.py apply_retention``). Each erasure and each run that changed something is in
the audit log, naming the customer by public id only.

Files are removed from storage after the transaction commits: a rolled-back erasure keeps
them, and a storage failure is logged without undoing the erasure.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone

from accounts.audit import record_audit_event
from accounts.models import AuditEvent, CustomerToken, Membership, Organization
from tickets import events, search
from tickets.actors import Actor, ActorKind
from tickets.exceptions import PermissionDenied
from tickets.models import (
    Attachment,
    Customer,
    Delivery,
    Message,
    Notification,
    Participant,
    Ticket,
    TicketEvent,
    new_access_key,
)
from tickets.rendering import render_markdown

from .customers import ERASED_EXTERNAL_ID_PREFIX

logger = logging.getLogger(__name__)

ERASED_SUBJECT = "[erased]"
ERASED_BODY = "*This message was erased.*"
ERASED_ACTOR_LABEL = "Erased customer"
# History rows whose before/after may hold what a person wrote or their address.
PERSONAL_EVENT_FIELDS = ("subject", "metadata", "reply_address", "participants")
# Tickets redacted or deleted per statement, so a large retention run holds no huge lock.
BATCH_SIZE = 200


def may_manage_customer_data(actor: Actor, organization_id: int) -> bool:
    """Export and erase: owners and admins, staff, the organization's API keys (its own
    backend, which answers its customers' requests), and the system."""
    if actor.kind in (ActorKind.INTEGRATOR, ActorKind.SYSTEM):
        return True
    if actor.kind != ActorKind.AGENT or actor.user is None:
        return False
    if actor.user.is_staff:
        return True
    role = (
        Membership.objects.filter(user=actor.user, organization_id=organization_id)
        .values_list("role", flat=True)
        .first()
    )
    return role in {Membership.Role.OWNER, Membership.Role.ADMIN}


def require_customer_data_manager(actor: Actor, organization_id: int) -> None:
    if not may_manage_customer_data(actor, organization_id):
        raise PermissionDenied("Exporting or erasing a customer's data needs the owner or admin role.")


# Redaction, shared by erasure and retention -----------------------------------------------


def _delete_files(names: list[str]) -> None:
    storage = Attachment._meta.get_field("file").storage
    for name in names:
        try:
            storage.delete(name)
        except Exception:
            # The rows are gone; a file left behind is logged for the operator to remove.
            logger.exception("Could not delete the erased attachment %s from storage", name)


def _forget_attachments(attachments) -> int:
    """Delete the rows now and their files once the transaction commits."""
    names = [name for name in attachments.values_list("file", flat=True) if name]
    count, _ = attachments.delete()
    if names:
        transaction.on_commit(partial(_delete_files, names))
    return count


def _redact_messages(messages) -> int:
    _forget_attachments(Attachment.objects.filter(message__in=messages))
    return messages.update(
        body=ERASED_BODY,
        body_html=render_markdown(ERASED_BODY),
        raw_email="",
        email_message_id="",
    )


def _redact_tickets(ticket_ids: list[int], *, actor: Actor, now: datetime) -> None:
    """Erase the contents of these tickets; the rows, their counts and timings stay."""
    if not ticket_ids:
        return
    tickets = Ticket.objects.filter(pk__in=ticket_ids)
    _redact_messages(Message.objects.filter(ticket_id__in=ticket_ids))
    Delivery.objects.filter(ticket_id__in=ticket_ids).update(
        subject="", body_text="", body_html="", headers={}, reply_to="", last_error=""
    )
    # Mail to anyone but the organization's own people: the customer and participants.
    Delivery.objects.filter(ticket_id__in=ticket_ids).exclude(
        kind__in=[Delivery.Kind.NEW_TICKET, Delivery.Kind.ASSIGNED, Delivery.Kind.CUSTOMER_REPLY]
    ).update(recipient="")
    reference = Subquery(Ticket.objects.filter(pk=OuterRef("ticket_id")).values("reference")[:1])
    Notification.objects.filter(ticket_id__in=ticket_ids).update(
        text=Concat(Coalesce(reference, Value("")), Value(": contents erased"))
    )
    TicketEvent.objects.filter(ticket_id__in=ticket_ids, field__in=PERSONAL_EVENT_FIELDS).update(
        before=None, after=None
    )
    tickets.update(subject=ERASED_SUBJECT, metadata={}, reply_address="", redacted_at=now)
    if search.is_supported():
        # After the subject and the bodies changed: the document is rebuilt from them.
        tickets.update(search_document=search.rebuilt_document())
    # Every private link stops working: a new secret per ticket.
    rows = list(tickets.only("pk"))
    for ticket in rows:
        ticket.access_key = new_access_key()
    Ticket.objects.bulk_update(rows, ["access_key"])
    TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket_id=ticket_id,
            action=TicketEvent.Action.CONTENTS_ERASED,
            actor_user=actor.user,
            actor_label=actor.label[:200],
            created_at=now,
        )
        for ticket_id in ticket_ids
    )


def _rebuild_search(ticket_ids: Iterable[int]) -> None:
    if search.is_supported():
        Ticket.objects.filter(pk__in=list(ticket_ids)).update(search_document=search.rebuilt_document())


# Erasure -------------------------------------------------------------------------------------


def erase_customer(*, customer: Customer, actor: Actor) -> Customer:
    """Erase everything that names or was written by this customer, keep their tickets
    countable. Erasing again finds nothing more to erase and says so in the audit log."""
    require_customer_data_manager(actor, customer.organization_id)
    now = timezone.now()
    with transaction.atomic():
        customer = Customer.objects.select_for_update().select_related("organization").get(pk=customer.pk)
        already_erased = customer.erased_at is not None
        labels = {value for value in (customer.email, customer.name, customer.external_id) if value}
        label = customer.display_name
        email = customer.email

        theirs = Q(customer=customer)
        if email:
            # Filed under their address by someone who had not proven it yet (a provisional
            # record, tickets/services/customers.py): possibly their words too.
            theirs |= Q(organization_id=customer.organization_id, reply_address__iexact=email)
        ticket_ids = list(Ticket.objects.filter(theirs).values_list("pk", flat=True))
        for start in range(0, len(ticket_ids), BATCH_SIZE):
            _redact_tickets(ticket_ids[start : start + BATCH_SIZE], actor=actor, now=now)

        # What they wrote on other customers' tickets, as a participant.
        elsewhere = Message.objects.filter(author_customer=customer).exclude(ticket_id__in=ticket_ids)
        touched = set(elsewhere.values_list("ticket_id", flat=True))
        events.publish(
            events.ContentsErased(
                actor=actor,
                organization_id=customer.organization_id,
                ticket_ids=tuple(ticket_ids),
                customer_id=customer.pk,
                customer_public_id=customer.public_id,
                message_public_ids=tuple(elsewhere.values_list("public_id", flat=True)),
            )
        )
        _redact_messages(elsewhere)
        _rebuild_search(touched)
        Participant.objects.filter(customer=customer).delete()
        TicketEvent.objects.filter(actor_customer=customer).update(actor_label=ERASED_ACTOR_LABEL)
        if email:
            TicketEvent.objects.filter(
                ticket__organization_id=customer.organization_id, field="participants"
            ).filter(Q(before=email) | Q(after=email)).update(before=None, after=None)
            # Mail to them about this organization: its tickets, and its portal's sign-in
            # links (which carry no ticket, only the organization's portal address).
            to_them = Delivery.objects.filter(recipient__iexact=email).filter(
                Q(ticket__organization_id=customer.organization_id)
                | Q(
                    ticket__isnull=True,
                    kind=Delivery.Kind.PORTAL_LINK,
                    body_text__contains=f"/portal/{customer.organization.slug}/",
                )
            )
            to_them.update(
                recipient="", subject="", body_text="", body_html="", headers={}, reply_to="", last_error=""
            )

        CustomerToken.objects.filter(customer=customer, revoked_at__isnull=True).update(revoked_at=now)
        if label and not already_erased:
            AuditEvent.objects.filter(
                organization_id=customer.organization_id,
                action__in=[
                    AuditEvent.Action.CUSTOMER_TOKEN_CREATED,
                    AuditEvent.Action.CUSTOMER_TOKEN_REVOKED,
                ],
                target__endswith=f" for {label}",
            ).update(target=f"token for an erased customer ({customer.public_id})")

        customer.email = ""
        customer.name = ""
        customer.external_id = f"{ERASED_EXTERNAL_ID_PREFIX}{customer.public_id}"
        customer.metadata = {}
        customer.email_problem = Customer.EmailProblem.NONE
        customer.email_problem_at = None
        customer.erased_at = customer.erased_at or now
        customer.save()

        record_audit_event(
            organization=customer.organization,
            actor=actor,
            action=AuditEvent.Action.CUSTOMER_ERASED,
            # Never the person's name or address: the audit log outlives the erasure.
            target=f"customer {customer.public_id}",
            changes={
                "tickets": len(ticket_ids),
                "other_tickets": len(touched),
                "already_erased": already_erased,
                "fields": sorted(["email", "name", "external_id", "metadata"]) if labels else [],
            },
        )
    return customer


# Retention -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionResult:
    organization_id: int
    action: str
    tickets: int


def tickets_due_for_retention(organization: Organization, *, now: datetime | None = None):
    """Closed tickets past the organization's rule (since closed, or last updated when the
    close time is unknown), not yet redacted; none when the rule is off."""
    if not organization.retention_days:
        return Ticket.objects.none()
    cutoff = (now or timezone.now()) - timedelta(days=organization.retention_days)
    due = Ticket.objects.filter(organization=organization, status=Ticket.Status.CLOSED).alias(
        retained_since=Coalesce(F("closed_at"), F("updated_at"))
    )
    due = due.filter(retained_since__lt=cutoff)
    if organization.retention_action == Organization.RetentionAction.ANONYMIZE:
        due = due.filter(redacted_at__isnull=True)
    return due.order_by()


def apply_retention(*, organization: Organization, actor: Actor | None = None) -> RetentionResult:
    """Anonymize or delete the organization's closed tickets past its rule, in batches."""
    actor = actor or Actor.system("Retention rule")
    now = timezone.now()
    action = organization.retention_action
    total = 0
    while True:
        with transaction.atomic():
            batch = list(
                tickets_due_for_retention(organization, now=now)
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:BATCH_SIZE]
            )
            if not batch:
                break
            events.publish(
                events.ContentsErased(actor=actor, organization_id=organization.pk, ticket_ids=tuple(batch))
            )
            if action == Organization.RetentionAction.DELETE:
                _forget_attachments(Attachment.objects.filter(message__ticket_id__in=batch))
                Ticket.objects.filter(pk__in=batch).delete()
            else:
                _redact_tickets(batch, actor=actor, now=now)
            total += len(batch)
    if total:
        record_audit_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.RETENTION_APPLIED,
            target=f"{total} closed tickets {'deleted' if action == 'delete' else 'anonymized'}",
            changes={"action": action, "days": organization.retention_days, "tickets": total},
        )
    return RetentionResult(organization_id=organization.pk, action=action, tickets=total)


def apply_all_retention(*, actor: Actor | None = None) -> list[RetentionResult]:
    """Every organization's retention rule (the worker's periodic run)."""
    results = []
    for organization in Organization.objects.filter(retention_days__isnull=False).order_by("pk"):
        try:
            results.append(apply_retention(organization=organization, actor=actor))
        except Exception:
            # One organization's failure must not keep the others' rules from running.
            logger.exception("Retention failed for organization %s", organization.pk)
    return results
