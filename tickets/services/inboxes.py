"""Inboxes: an organization's queues, each with its prefix, address and limits."""

import re

from django.db import transaction

from accounts.audit import record_audit_event, require_manager
from accounts.models import AuditEvent, Organization
from tickets.actors import Actor
from tickets.exceptions import InvalidInput
from tickets.models import Inbox

PREFIX_PATTERN = re.compile(r"[A-Z][A-Z0-9]{0,9}")


def _clean_inbox_fields(organization: Organization, fields: dict, *, inbox: Inbox | None = None) -> dict:
    cleaned = dict(fields)
    if "name" in cleaned:
        cleaned["name"] = (cleaned["name"] or "").strip()
        if not cleaned["name"] or len(cleaned["name"]) > 100:
            raise InvalidInput("name", "An inbox needs a name of at most 100 characters.")
    if "prefix" in cleaned:
        cleaned["prefix"] = (cleaned["prefix"] or "").strip().upper()
        if not PREFIX_PATTERN.fullmatch(cleaned["prefix"]):
            raise InvalidInput("prefix", "Use 1–10 capital letters or digits, starting with a letter.")
        clash = Inbox.objects.filter(organization=organization, prefix=cleaned["prefix"])
        if inbox is not None:
            clash = clash.exclude(pk=inbox.pk)
        if clash.exists():
            raise InvalidInput("prefix", "Another inbox of this organization uses this prefix.")
    if "auto_assignment" in cleaned and cleaned["auto_assignment"] not in Inbox.AutoAssignment.values:
        raise InvalidInput("auto_assignment", "Unknown auto-assignment mode.")
    if "daily_limit_per_customer" in cleaned:
        limit = cleaned["daily_limit_per_customer"]
        if limit is not None and limit < 1:
            raise InvalidInput("daily_limit_per_customer", "Use at least 1, or leave empty for no limit.")
    return cleaned


def _take_default(organization: Organization, inbox: Inbox) -> None:
    # One default per organization (a partial unique constraint): clear the old one first.
    Inbox.objects.filter(organization=organization, is_default=True).exclude(pk=inbox.pk).update(
        is_default=False
    )


def create_inbox(
    *,
    organization: Organization,
    actor: Actor,
    name: str,
    prefix: str,
    support_email: str = "",
    daily_limit_per_customer: int | None = None,
    auto_assignment: str = Inbox.AutoAssignment.OFF,
    is_default: bool = False,
) -> Inbox:
    """Add an inbox; making it the default takes that role from the previous default."""
    fields = _clean_inbox_fields(
        organization,
        {
            "name": name,
            "prefix": prefix,
            "support_email": support_email,
            "daily_limit_per_customer": daily_limit_per_customer,
            "auto_assignment": auto_assignment,
            "is_default": is_default,
        },
    )
    with transaction.atomic():
        require_manager(organization, actor)
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        inbox = Inbox(organization=organization, **fields)
        if is_default:
            _take_default(organization, inbox)
        inbox.save()
        record_audit_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.INBOX_CREATED,
            target=str(inbox),
            changes={key: value for key, value in fields.items()},
        )
    return inbox


INBOX_EDITABLE_FIELDS = (
    "name",
    "prefix",
    "support_email",
    "daily_limit_per_customer",
    "auto_assignment",
    "is_default",
)


def update_inbox(*, inbox: Inbox, actor: Actor, **fields) -> Inbox:
    """Change an inbox's settings; the audit event lists each changed field, before and after.

    A prefix change applies to new tickets; existing references keep the old prefix.
    """
    unknown = set(fields) - set(INBOX_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"update_inbox() got unexpected fields: {', '.join(sorted(unknown))}")
    organization = inbox.organization
    fields = _clean_inbox_fields(organization, fields, inbox=inbox)
    with transaction.atomic():
        require_manager(organization, actor)
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        inbox = Inbox.objects.select_for_update().get(pk=inbox.pk)
        changes = {}
        for name, value in fields.items():
            before = getattr(inbox, name)
            if before != value:
                changes[name] = {"before": before, "after": value}
                setattr(inbox, name, value)
        if changes:
            if changes.get("is_default", {}).get("after"):
                _take_default(organization, inbox)
            inbox.save(update_fields=list(changes))
            record_audit_event(
                organization=organization,
                actor=actor,
                action=AuditEvent.Action.INBOX_UPDATED,
                target=str(inbox),
                changes=changes,
            )
    return inbox


def delete_inbox(*, inbox: Inbox, actor: Actor) -> None:
    """Remove an inbox that was set up by mistake or never used.

    Refused while it holds tickets (their references and history live in it: close them
    instead, or keep the inbox), while an API key is restricted to it (deleting the inbox
    would delete the key with it: a working key would stop without a revocation, a revoked
    one would leave no record), and for the default inbox while the organization has
    others (make another one the default first: the API and the portal send tickets
    without an inbox there).
    """
    organization = inbox.organization
    with transaction.atomic():
        require_manager(organization, actor)
        # The organization's lock serializes this with create_inbox/update_inbox's default switch.
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        inbox = Inbox.objects.select_for_update().get(pk=inbox.pk)
        if inbox.tickets.exists():
            raise InvalidInput("inbox", f"The inbox {inbox.name} has tickets; an inbox with tickets is kept.")
        if inbox.api_keys.exists():
            raise InvalidInput(
                "inbox", f"API keys are restricted to the inbox {inbox.name}; an inbox with keys is kept."
            )
        if inbox.is_default and Inbox.objects.filter(organization=organization).exclude(pk=inbox.pk).exists():
            raise InvalidInput(
                "inbox", f"The inbox {inbox.name} is the default; make another inbox the default first."
            )
        record_audit_event(
            organization=organization,
            actor=actor,
            action=AuditEvent.Action.INBOX_DELETED,
            target=str(inbox),
            changes={"name": inbox.name, "prefix": inbox.prefix, "was_default": inbox.is_default},
        )
        inbox.delete()
