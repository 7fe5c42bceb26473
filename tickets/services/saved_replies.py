"""Saved replies: canned answers an organization's agents insert into a reply."""

from django.db import transaction

from accounts.audit import record_audit_event, require_manager
from accounts.models import AuditEvent, Organization
from tickets.actors import Actor
from tickets.exceptions import InvalidInput
from tickets.models import SavedReply

from .validation import validate_body


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
